"""Event use-cases: a leg's events with every delivery attempt, and sending one again."""

from __future__ import annotations

from typing import Any

from legato.domain.account import Account
from legato.domain.errors import Conflict, NotFound
from legato.events.dispatcher import Dispatcher
from legato.events.outbox import Outbox
from legato.store.repositories import LegRepository


class EventService:
    """What an application can see and do about its legs' events."""

    def __init__(self, legs: LegRepository, outbox: Outbox, dispatcher: Dispatcher) -> None:
        self.legs = legs
        self.outbox = outbox
        self.dispatcher = dispatcher

    async def _leg(self, account: Account, leg_sid: str) -> None:
        if await self.legs.get(account.account_sid, leg_sid) is None:
            raise NotFound("no such leg", field="leg_sid")

    async def list(self, account: Account, leg_sid: str) -> list[dict[str, Any]]:
        """The leg's outbox rows in sequence order, each with `delivery_attempts` (oldest first)."""
        await self._leg(account, leg_sid)
        rows = await self.legs.events(leg_sid)
        attempts = await self.outbox.attempts(leg_sid)
        for row in rows:
            row["delivery_attempts"] = attempts.get(row["event_sid"], [])
        return rows

    async def redeliver(self, account: Account, leg_sid: str, event_sid: str) -> dict[str, Any]:
        """Queue the event for delivery again (same event_sid); NotFound for others' legs and events."""
        await self._leg(account, leg_sid)
        row = await self.outbox.event(leg_sid, event_sid)
        if row is None:
            raise NotFound("no such event on this leg", field="event_sid")
        if not row["endpoint"]:
            raise Conflict("the event has no endpoint to deliver to", field="event_sid")
        await self.dispatcher.redeliver(row)
        row.update(status="pending")
        row["delivery_attempts"] = (await self.outbox.attempts(leg_sid)).get(event_sid, [])
        return row
