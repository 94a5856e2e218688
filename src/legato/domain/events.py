"""Leg events: immutable records with a per-leg sequence number and a stable id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class LegEvent:
    """One event of one leg, as stored in the outbox and delivered to the leg's endpoint."""

    event_sid: str
    leg_sid: str
    account_sid: str
    sequence: int
    event_name: str
    event_type: str
    timestamp: datetime
    data: dict[str, Any]
    error: dict[str, Any] | None = None
    body: dict[str, Any] | None = None  # the delivered body when the leg asked for another dialect
    deliver: bool = True  # False: the leg's dialect has no counterpart; kept, listed, not sent
    endpoint: str | None = None  # where it goes when not the leg's endpoint (transfer_event_endpoint)

    def payload(self) -> dict[str, Any]:
        """The delivered JSON body: the dialect's `body`, else the seed's shape."""
        if self.body is not None:
            return self.body
        return {
            "event_sid": self.event_sid,
            "event_type": self.event_type,
            "event_name": self.event_name,
            "event_timestamp": timestamp_parts(self.timestamp),
            "sequence": self.sequence,
            "event_data": {"data": self.data, "error": self.error},
        }


def timestamp_parts(moment: datetime) -> dict[str, int]:
    """`{seconds, nanos}` for a timezone-aware datetime."""
    micros = (moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // _MICRO
    seconds, rem = divmod(micros, 1_000_000)
    return {"seconds": seconds, "nanos": rem * 1000}


_MICRO = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with nine fractional digits and a Z, as the seed writes timestamps."""
    if moment is None:
        return None
    m = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
            f"{m.microsecond:06d}000Z")
