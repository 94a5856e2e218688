"""One entry point per kind of object: render a leg or a call in a named dialect (`format=`)."""

from __future__ import annotations

from typing import Any

from legato.dialects import bandwidth, exotel, messagebird, ringcentral, telefonie
from legato.domain.call import Call
from legato.domain.errors import ValidationFailed
from legato.domain.events import LegEvent
from legato.domain.leg import Leg

DEFAULT = "exotel"
FORMATS = ("exotel", "messagebird", "telefonie", "ringcentral")


def check(fmt: str) -> str:
    """The format if Legato speaks it, else ValidationFailed naming `format`."""
    if fmt not in FORMATS:
        raise ValidationFailed(f"format must be one of {', '.join(FORMATS)}", field="format")
    return fmt


def render_leg(fmt: str, leg: Leg) -> dict[str, Any]:
    """A leg in the format's shape (RingCentral: a Detailed CallLogRecordLegInfo)."""
    check(fmt)
    if fmt == "messagebird":
        return messagebird.render_leg(leg)
    if fmt == "telefonie":
        return telefonie.render_leg(leg)
    if fmt == "ringcentral":
        return ringcentral.render_leg(leg, ringcentral.DETAILED)
    return exotel.leg_resource(leg)


def render_call(fmt: str, call: Call, uri: str) -> dict[str, Any]:
    """A call and its legs in the format's shape; `uri` is the call's own URL (RingCentral needs it)."""
    check(fmt)
    if fmt == "messagebird":
        return messagebird.render_call(call)
    if fmt == "telefonie":
        return telefonie.render_call(call)
    if fmt == "ringcentral":
        return ringcentral.render_call(call, uri, ringcentral.DETAILED)
    return {"call_sid": call.call_sid, "account_sid": call.account_sid,
            "legs": [exotel.leg_resource(leg) for leg in call.legs]}


def render_event(fmt: str, event: LegEvent, snapshot: Leg) -> dict[str, Any] | None:
    """An event's body in a leg's `event_format`; None when that provider has no such callback."""
    if fmt == "bandwidth":
        return bandwidth.render_event(event, snapshot)
    if fmt == "telefonie":
        return telefonie.render_event(event, snapshot)
    if fmt == "messagebird":
        return messagebird.render_event(event, snapshot)
    return event.payload()
