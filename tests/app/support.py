"""The application's services in process, on the engine of tests/engine/inprocess.py (sandbox, manual clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from legato.app.bridges import BridgeService
from legato.app.legs import CreateLeg, LegService
from legato.domain.account import Account
from legato.domain.clock import ManualClock
from legato.engine.bridges import Bridges
from legato.engine.placement import Placement
from legato.store.repositories import BridgeRepository
from tests.engine.inprocess import Engine, engine, written

ACME = Account(account_sid="acme", name="Acme", api_key="key_x", created_at=datetime(2026, 1, 1, tzinfo=UTC),
               exophones=("+918030752400",))


def service(e: Engine) -> LegService:
    return LegService(e.legs, e.switchboard, e.clock, placement=Placement({"dc1": ["nso1"]}))


async def create(legs: LegService, number: str, **fields: Any) -> str:
    leg = await legs.create(ACME, CreateLeg(contact_uri=number, exophone="08030752400",
                                            leg_event_endpoint="http://127.0.0.1:9/events", event_format="telefonie",
                                            **fields))
    return leg.leg_sid


def stamps(e: Engine, leg_sid: str) -> list[tuple[str, float]]:
    """(event, seconds on the manual clock since it started) of the leg's durable events."""
    start = ManualClock().now()
    return [(r["event_name"], (r["timestamp"] - start).total_seconds()) for r in e.commits.rows
            if r["subject_sid"] == leg_sid]


@dataclass
class World:
    """The engine with the leg and bridge services on it."""

    e: Engine
    legs: LegService
    bridges: BridgeService

    async def connected(self, number: str, **fields: object) -> str:
        """A new leg, answered (the sandbox rings after 1 s and answers 2 s later)."""
        leg_sid = await create(self.legs, number, **fields)
        self.e.clock.advance(3.0)
        await self.e.commits.wait(leg_sid, "leg_answered")
        return leg_sid

    async def names(self, leg_sid: str) -> list[str]:
        await written(self.e)
        return self.e.commits.names(leg_sid)


@asynccontextmanager
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """An engine on `tmp_path`'s database (another `world` on the same path shares it) with the services."""
    async with engine(tmp_path) as e:
        bridges = Bridges(e.clock, e.switchboard)
        e.switchboard.on_end.append(bridges.leg_ended)  # as app/runtime.py wires it
        yield World(e, service(e), BridgeService(BridgeRepository(e.db), e.legs, bridges, e.clock, e.writer))
