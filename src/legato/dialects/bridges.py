"""Legato's own shape of a bridge: the resource, the stored row and the event data."""

from __future__ import annotations

from typing import Any

from legato.domain.bridge import Bridge, BridgeState
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


def bridge_to_row(bridge: Bridge) -> dict[str, Any]:
    return {"bridge_sid": bridge.bridge_sid, "account_sid": bridge.account_sid, "call_sid": bridge.call_sid,
            "dc_code": bridge.dc_code, "leg_sids": list(bridge.leg_sids),
            "bridge_event_endpoint": bridge.bridge_event_endpoint, "end_on_exit": bridge.end_on_exit,
            "state": bridge.state.value, "end_reason": bridge.end_reason,
            "ended_by_leg_sid": bridge.ended_by_leg_sid, "date_created": bridge.date_created,
            "date_updated": bridge.date_updated, "end_time": bridge.end_time,
            "event_sequence": bridge.event_sequence}


def bridge_from_row(row: Any) -> Bridge:
    return Bridge(bridge_sid=row["bridge_sid"], account_sid=row["account_sid"], call_sid=row["call_sid"],
                  dc_code=row["dc_code"], leg_sids=list(row["leg_sids"]),
                  bridge_event_endpoint=row["bridge_event_endpoint"], end_on_exit=row["end_on_exit"],
                  date_created=row["date_created"], state=BridgeState(row["state"]), end_reason=row["end_reason"],
                  ended_by_leg_sid=row["ended_by_leg_sid"], date_updated=row["date_updated"],
                  end_time=row["end_time"], event_sequence=row["event_sequence"])
