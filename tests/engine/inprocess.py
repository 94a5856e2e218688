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
from tests.waiting import heard

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
        await heard(self.changed, lambda: name in self.names(leg_sid), seconds=WAIT,
                    what=lambda: f"{name} of {leg_sid} (has {self.names(leg_sid)})")


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


async def written(e: Engine) -> None:
    """Return once every write submitted so far is durable and its rows were heard: the writer commits in
    order, so a write of a leg of nobody's, awaited, comes after them all."""
    await e.writer.submit(outbound("+919163810010", account_sid="nobody"), new=True)


def outbound(number: str, endpoint: str = "http://127.0.0.1:9/events", account_sid: str = "acme",
             **fields: Any) -> Leg:
    return Leg(leg_sid=new_leg_sid(), account_sid=account_sid, call_sid=new_call_sid(), direction=Direction.OUTBOUND,
               contact_uri=number, contact_e164=number, exophone="+918030752400", network_type="pstn",
               leg_event_endpoint=endpoint, date_created=ManualClock().now(), **fields)
