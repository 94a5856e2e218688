"""The dialect registry: render a leg, a call or an event in a named dialect (`format=`, `event_format`).

Adding a dialect: its module (pure renderers and a `DIALECT = Dialect(...)` line) and one entry in
`DIALECTS` below; the API's format lists and the leg's `event_format` choices follow from it.
"""

from __future__ import annotations

from typing import Any

from legato.dialects import bandwidth, exotel, messagebird, ringcentral, telefonie, twilio_conferences
from legato.dialects.dialect import Dialect
from legato.domain.call import Call
from legato.domain.conference import Conference
from legato.domain.errors import ValidationFailed
from legato.domain.events import LegEvent
from legato.domain.leg import Leg

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    exotel.DIALECT, messagebird.DIALECT, telefonie.DIALECT, ringcentral.DIALECT, bandwidth.DIALECT,
    twilio_conferences.DIALECT)}  # twilio: conference callbacks of call flows only (no leg, call or event body)

DEFAULT = "exotel"
FORMATS = tuple(name for name, d in DIALECTS.items() if d.render_leg is not None)  # readable legs and calls
EVENT_FORMATS = tuple(name for name, d in DIALECTS.items() if d.render_event is not None)  # event bodies


def check(fmt: str) -> str:
    """The format if Legato speaks it, else ValidationFailed naming `format`."""
    if fmt not in FORMATS:
        raise ValidationFailed(f"format must be one of {', '.join(FORMATS)}", field="format")
    return fmt


def render_leg(fmt: str, leg: Leg) -> dict[str, Any]:
    """A leg in the format's shape (RingCentral: a Detailed CallLogRecordLegInfo)."""
    render = DIALECTS[check(fmt)].render_leg
    assert render is not None
    return render(leg)


def render_call(fmt: str, call: Call, uri: str) -> dict[str, Any]:
    """A call and its legs in the format's shape; `uri` is the call's own URL (RingCentral needs it)."""
    render = DIALECTS[check(fmt)].render_call
    assert render is not None
    return render(call, uri)


def render_event(fmt: str, event: LegEvent, snapshot: Leg) -> dict[str, Any] | None:
    """An event's body in a leg's `event_format`; None when that provider has no such callback."""
    dialect = DIALECTS.get(fmt)
    if dialect is None or dialect.render_event is None:
        return event.payload()
    return dialect.render_event(event, snapshot)


def render_conference_event(fmt: str, event: LegEvent, conference: Conference, leg: Leg | None
                            ) -> dict[str, Any] | None:
    """A conference event's body in the conference's `event_format`; None when that provider has no such
    callback (Legato's own shape for dialects whose events are Legato's own, e.g. exotel)."""
    dialect = DIALECTS.get(fmt)
    if dialect is not None and dialect.render_conference_event is not None:
        return dialect.render_conference_event(event, conference, leg)
    if dialect is None or dialect.render_event is None or dialect.name == DEFAULT:
        return event.payload()
    return None
