"""The group-commit writer: state changes and their events reach the database in one transaction.

Call control submits a leg snapshot together with the events it caused; the writer gathers
whatever is waiting into one transaction (three statements: new legs, changed legs, new events),
commits, then resolves each submitter's future and tells listeners which events are now durable.
Order is kept: a later snapshot of a leg always wins over an earlier one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from legato.domain.events import LegEvent
from legato.domain.leg import Leg
from legato.store.rows import event_to_row, leg_to_row
from legato.store.tables import bridges, events, legs

log = logging.getLogger(__name__)
MAX_BATCH = 1000

CommitListener = Callable[[list[dict[str, Any]]], None]
"""Called after each commit with the outbox rows just made durable (on the loop thread)."""


@dataclass(slots=True)
class _Item:
    new_leg: dict[str, Any] | None
    leg: dict[str, Any] | None
    events: list[dict[str, Any]]
    future: asyncio.Future[None]
    bridge: dict[str, Any] | None = None
    new_bridge: bool = False


@dataclass(slots=True)
class _Batch:
    new_legs: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_legs: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    new_bridges: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_bridges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, item: _Item) -> None:
        if item.bridge is not None:
            sid = item.bridge["bridge_sid"]
            if item.new_bridge or sid in self.new_bridges:
                self.new_bridges[sid] = item.bridge
            else:
                self.changed_bridges[sid] = item.bridge
        if item.new_leg is not None:
            self.new_legs[item.new_leg["leg_sid"]] = item.new_leg
        if item.leg is not None:
            sid = item.leg["leg_sid"]
            if sid in self.new_legs:
                self.new_legs[sid] = item.leg
            else:
                self.changed_legs[sid] = item.leg
        self.events.extend(item.events)


_UPDATE_BRIDGE = (
    update(bridges)
    .where(bridges.c.bridge_sid == bindparam("b_bridge_sid"))
    .values({c.name: bindparam(c.name) for c in bridges.columns if c.name != "bridge_sid"})
)

_UPDATE_LEG = (
    update(legs)
    .where(legs.c.leg_sid == bindparam("b_leg_sid"))
    .values({c.name: bindparam(c.name) for c in legs.columns if c.name != "leg_sid"})
)


class Writer:
    """Serialises all writes of call control into group commits."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._queue: list[_Item] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[CommitListener] = []
        self._closing = False

    def add_listener(self, listener: CommitListener) -> None:
        """Be told of each batch of events once it is durable."""
        self._listeners.append(listener)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="legato-writer")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def submit(self, leg: Leg, new_events: Sequence[LegEvent] = (), *, new: bool = False,
               endpoint: str | None = None) -> asyncio.Future[None]:
        """Queue a snapshot of `leg` (inserted when `new`) and its events; the future resolves on commit."""
        row = leg_to_row(leg)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        item = _Item(new_leg=row if new else None, leg=None if new else row,
                     events=[event_to_row(e, endpoint) for e in new_events], future=future)
        self._queue.append(item)
        self._wake.set()
        return future

    def submit_bridge(self, row: dict[str, Any], new_events: Sequence[LegEvent] = (), *, new: bool = False,
                      endpoint: str | None = None) -> asyncio.Future[None]:
        """Queue a bridge row (inserted when `new`) and its events (leg_sid holds the bridge_sid)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(new_leg=None, leg=None, events=[event_to_row(e, endpoint) for e in new_events],
                                 future=future, bridge=row, new_bridge=new))
        self._wake.set()
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                items, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._commit(items)
            if self._closing:
                return

    async def _commit(self, items: list[_Item]) -> None:
        batch = _Batch()
        for item in items:
            batch.add(item)
        try:
            async with self._engine.begin() as conn:
                await _write(conn, batch)
        except Exception:
            if len(items) == 1:
                first = items[0]
                log.exception("write failed leg_sid=%s bridge_sid=%s",
                              (first.new_leg or first.leg or {}).get("leg_sid"), (first.bridge or {}).get("bridge_sid"))
                if not items[0].future.done():
                    items[0].future.set_exception(RuntimeError("the database refused the write"))
                return
            for item in items:  # isolate the bad item; the rest still commit
                await self._commit([item])
            return
        for item in items:
            if not item.future.done():
                item.future.set_result(None)
        if batch.events:
            for listener in self._listeners:
                listener(batch.events)


async def _write(conn: AsyncConnection, batch: _Batch) -> None:
    if batch.new_legs:
        await conn.execute(insert(legs), list(batch.new_legs.values()))
    if batch.changed_legs:
        rows = []
        for row in batch.changed_legs.values():
            values = {k: v for k, v in row.items() if k != "leg_sid"}
            values["b_leg_sid"] = row["leg_sid"]
            rows.append(values)
        await conn.execute(_UPDATE_LEG, rows)
    if batch.new_bridges:
        await conn.execute(insert(bridges), list(batch.new_bridges.values()))
    if batch.changed_bridges:
        await conn.execute(_UPDATE_BRIDGE, [{**{k: v for k, v in row.items() if k != "bridge_sid"},
                                             "b_bridge_sid": row["bridge_sid"]}
                                            for row in batch.changed_bridges.values()])
    if batch.events:
        await conn.execute(insert(events), batch.events)
