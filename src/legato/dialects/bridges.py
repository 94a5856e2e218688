"""Legato's own shape of a bridge: the resource (also the event data of bridge events)."""

from __future__ import annotations

from typing import Any

from legato.domain.bridge import Bridge
from legato.domain.events import iso


def bridge_resource(bridge: Bridge) -> dict[str, Any]:
    """The bridge as `GET /bridges/{bridge_sid}` returns it (also the event data of bridge events)."""
    return {
        "bridge_sid": bridge.bridge_sid,
        "account_sid": bridge.account_sid,
        "call_sid": bridge.call_sid,
        "state": bridge.state.value,
        "leg_sids": list(bridge.leg_sids),
        "dc_code": bridge.dc_code,
        "bridge_event_endpoint": bridge.bridge_event_endpoint,
        "end_on_exit": bridge.end_on_exit,
        "end_reason": bridge.end_reason,
        "ended_by_leg_sid": bridge.ended_by_leg_sid,
        "date_created": iso(bridge.date_created),
        "date_updated": iso(bridge.date_updated),
        "end_time": iso(bridge.end_time),
    }
