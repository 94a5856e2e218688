"""Converting between domain objects and table rows."""

from __future__ import annotations

import dataclasses
from typing import Any

from legato.domain.events import LegEvent
from legato.domain.leg import AnsweredBy, Direction, HangupSource, Leg, LegState, TerminalStatus

_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(Leg))
_ENUMS = {"direction": Direction, "state": LegState, "terminal_status": TerminalStatus,
          "answered_by": AnsweredBy, "hangup_source": HangupSource}


def leg_to_row(leg: Leg) -> dict[str, Any]:
    """A snapshot of the leg as a row (enums as their string values, extra copied)."""
    row = {name: getattr(leg, name) for name in _LEG_FIELDS}
    for name in _ENUMS:
        value = row[name]
        row[name] = value.value if value is not None else None
    row["extra"] = dict(leg.extra)
    return row


def leg_from_row(row: Any) -> Leg:
    """A Leg from a row mapping."""
    values = {name: row[name] for name in _LEG_FIELDS}
    for name, enum in _ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    values["extra"] = dict(values["extra"] or {})
    return Leg(**values)


def event_to_row(event: LegEvent, endpoint: str | None) -> dict[str, Any]:
    """An outbox row for an event; `endpoint` None (or an event not to deliver) means nothing is sent."""
    endpoint = endpoint if event.deliver else None
    return {
        "event_sid": event.event_sid, "leg_sid": event.leg_sid, "account_sid": event.account_sid,
        "sequence": event.sequence, "event_name": event.event_name, "event_type": event.event_type,
        "timestamp": event.timestamp, "payload": event.payload(), "endpoint": endpoint,
        "status": "pending" if endpoint else "undeliverable", "attempts": 0,
        "next_attempt_at": event.timestamp if endpoint else None, "delivered_at": None,
    }
