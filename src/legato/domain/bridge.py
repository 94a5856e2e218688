"""Bridges: legs joined so they hear each other, as one call. A bridge is active, then terminated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from legato.domain.errors import Conflict

BRIDGE_EVENT = "bridge_lifecycle_event"
MAX_LEGS = 8


class BridgeState(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


@dataclass(slots=True)
class Bridge:
    """One bridge. Only `end` changes `state`."""

    bridge_sid: str
    account_sid: str
    call_sid: str
    dc_code: str | None
    leg_sids: list[str]
    bridge_event_endpoint: str | None
    end_on_exit: bool
    date_created: datetime
    state: BridgeState = BridgeState.ACTIVE
    end_reason: str | None = None
    ended_by_leg_sid: str | None = None
    date_updated: datetime | None = None
    end_time: datetime | None = None
    event_sequence: int = 0
    members: set[str] = field(default_factory=set)  # legs still in the bridge (not stored)

    def __post_init__(self) -> None:
        if self.date_updated is None:
            self.date_updated = self.date_created
        if not self.members and self.state is BridgeState.ACTIVE:
            self.members = set(self.leg_sids)

    def end(self, now: datetime, reason: str, by_leg_sid: str | None = None) -> None:
        """Terminate the bridge (once)."""
        if self.state is BridgeState.TERMINATED:
            raise Conflict("bridge is already terminated", field="bridge_sid")
        self.state = BridgeState.TERMINATED
        self.end_reason = reason
        self.ended_by_leg_sid = by_leg_sid
        self.end_time = self.date_updated = now
        self.members.clear()
