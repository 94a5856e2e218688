"""An in-process engine for tests: Switchboard + SandboxNetwork + ManualClock on a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain import machine as m
from legato.domain.clock import ManualClock
from legato.domain.ids import new_call_sid, new_leg_sid
from legato.domain.leg import Direction, Leg
from legato.engine.switchboard import Switchboard
from legato.network.sandbox import SandboxNetwork
from legato.store.database import create_engine, migrate
from legato.store.repositories import LegRepository
from legato.store.writer import Writer

WAIT = 10.0  # seconds an awaited commit may take on a loaded machine


@dataclass
class Commits:
    """Every event row the writer made durable, and a way to wait for one."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, rows: list[dict[str, Any]]) -> None:
        self.rows += rows
        self.changed.set()

    def names(self, leg_sid: str) -> list[str]:
        return [r["event_name"] for r in self.rows if r["subject_sid"] == leg_sid]

    async def wait(self, leg_sid: str, name: str) -> None:
        async def until() -> None:
            while name not in self.names(leg_sid):
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), WAIT)


@dataclass
class Engine:
    clock: ManualClock
    network: SandboxNetwork
    switchboard: Switchboard
    writer: Writer
    legs: LegRepository
    commits: Commits
    db: AsyncEngine


@asynccontextmanager
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}")
    await migrate(db)
    clock = ManualClock()
    network = SandboxNetwork(clock, recordings_dir=tmp_path / "recordings")
    writer = Writer(db)
    commits = Commits()
    writer.add_listener(commits)
    await writer.start()
    switchboard = Switchboard(clock, network, writer)
    await switchboard.start()
    try:
        yield Engine(clock, network, switchboard, writer, LegRepository(db), commits, db)
    finally:
        await switchboard.stop()
        await writer.stop()
        await db.dispose()


async def dial_until(e: Engine, number: str, seconds: float, event: str, **fields: Any) -> Leg:
    """Dial `number` from the sandbox, let `seconds` pass on the clock, and wait until `event` is durable."""
    leg = outbound(number, **fields)
    await e.switchboard.launch(leg, m.Start())
    e.clock.advance(seconds)
    await e.commits.wait(leg.leg_sid, event)
    return leg


def outbound(number: str, endpoint: str = "http://127.0.0.1:9/events", **fields: Any) -> Leg:
    return Leg(leg_sid=new_leg_sid(), account_sid="acme", call_sid=new_call_sid(), direction=Direction.OUTBOUND,
               contact_uri=number, contact_e164=number, exophone="+918030752400", network_type="pstn",
               leg_event_endpoint=endpoint, date_created=ManualClock().now(), **fields)
