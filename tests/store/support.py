"""Rows for store tests: legs and events as the engine makes them, and a migrated database of each kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.events import LegEvent
from legato.domain.ids import new_event_sid, new_leg_sid
from legato.domain.leg import Direction, Leg
from legato.store.database import create_engine, migrate
from tests.conftest import database_url

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def leg(account_sid: str = "acct", **fields: Any) -> Leg:
    """A new outbound leg (fields override the defaults)."""
    values: dict[str, Any] = {"call_sid": "call", "direction": Direction.OUTBOUND, "contact_uri": "09163816621",
                              "contact_e164": "+919163816621", "exophone": "08030752400", "network_type": "pstn",
                              "leg_event_endpoint": "http://x", "date_created": NOW, **fields}
    return Leg(leg_sid=new_leg_sid(), account_sid=account_sid, **values)


def event(item: Leg, name: str) -> LegEvent:
    """The leg's next event (its sequence moves on)."""
    item.event_sequence += 1
    return LegEvent(new_event_sid(), item.leg_sid, item.account_sid, item.event_sequence, name,
                    "leg_lifecycle_event", NOW, {"state": item.state.value})


@asynccontextmanager
async def migrated(database: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A new, migrated database of kind `database` ("sqlite" or "postgres"), disposed of at the end."""
    engine = create_engine(database_url(database, tmp_path))
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()
