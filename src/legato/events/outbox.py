"""The outbox as the dispatcher sees it: pending events to claim, and a group-commit recorder of attempts.

Events enter the outbox with the state change that caused them (store/writer.py). The dispatcher claims
the pending ones at start and is told of new ones after each commit; each attempt it makes is recorded
here (a `delivery_attempts` row plus the event's new status) in batched transactions, so recording
never costs one transaction per delivery.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.store.blocking import Stopped
from legato.store.direct import DirectStatements, Plan, add_rows
from legato.store.held import HeldConnection
from legato.store.nodes import pending_of
from legato.store.tables import delivery_attempts, events
from legato.store.writer import Writer

log = logging.getLogger(__name__)
MAX_BATCH = 2000
LINGER = 0.05
"""Seconds the recorder waits to gather attempts into one transaction (status is not on the delivery path)."""

_UPDATE_EVENT = (
    update(events)
    .where(events.c.event_sid == bindparam("b_event_sid"))
    .values(status=bindparam("status"), attempts=bindparam("attempts"),
            next_attempt_at=bindparam("next_attempt_at"), delivered_at=bindparam("delivered_at"))
)


class Outbox:
    """Reads of the outbox and the recorder of delivery attempts."""

    def __init__(self, engine: AsyncEngine, owner: str | None = None) -> None:
        self._engine = engine
        self.owner = owner  # a cluster node claims only the events of what it holds (store/nodes.py)
        self._attempts: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.writer: Writer | None = None  # set when the writer runs transactions in its own thread
        self._held = HeldConnection(engine) if engine.dialect.name == "postgresql" else None

    # ---- reads -------------------------------------------------------------------------
    async def claim_pending(self) -> list[dict[str, Any]]:
        """Every event not yet delivered or given up (of what `owner` holds, if set), per subject (leg, bridge,
        conference) in sequence order (taken over at start)."""
        query = select(events).where(events.c.status == "pending") if self.owner is None else pending_of(self.owner)
        query = query.order_by(events.c.subject, events.c.subject_sid, events.c.sequence)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in rows]

    async def event(self, leg_sid: str, event_sid: str) -> dict[str, Any] | None:
        """One event of the leg (None for another subject's)."""
        query = select(events).where(events.c.subject == "leg", events.c.subject_sid == leg_sid,
                                     events.c.event_sid == event_sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def attempts(self, leg_sid: str) -> dict[str, list[dict[str, Any]]]:
        """The leg's delivery attempts, grouped by event_sid, oldest first."""
        query = (select(delivery_attempts).where(delivery_attempts.c.subject_sid == leg_sid)
                 .order_by(delivery_attempts.c.id))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            grouped.setdefault(row["event_sid"], []).append(dict(row))
        return grouped

    # ---- recording ---------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="legato-outbox-recorder")

    async def stop(self) -> None:
        """Write what is queued, then stop (before the writer, on whose thread a SQLite file's records go);
        a `record` after that is refused (Stopped)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._held is not None:
            await self._held.close()

    def record(self, attempt: dict[str, Any] | None, event_sid: str, *, status: str, attempts: int,
               next_attempt_at: datetime | None, delivered_at: datetime | None,
               durable: bool = False) -> asyncio.Future[None] | None:
        """Queue an attempt row (None for a status change alone) and the event's new status.

        With `durable`, returns a future that resolves once the change is committed. Raises Stopped once the
        recorder has stopped (nothing would write it).
        """
        if self._closing and (self._task is None or self._task.done()):
            raise Stopped(f"the recorder of delivery attempts has stopped: event {event_sid} was not recorded")
        if attempt is not None:
            self._attempts.append(attempt)
        self._updates.append({"b_event_sid": event_sid, "status": status, "attempts": attempts,
                              "next_attempt_at": next_attempt_at, "delivered_at": delivered_at})
        self._wake.set()
        if not durable:
            return None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return future

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if not self._closing:
                await asyncio.sleep(LINGER)
            self._wake.clear()
            while self._updates:
                attempts, self._attempts = self._attempts, []
                updates, self._updates = self._updates, []
                waiters, self._waiters = self._waiters, []
                try:
                    if self.writer is not None:  # SQLite file: in the writer's thread, no aiosqlite hops
                        await self.writer.transact(functools.partial(_record_direct, attempts=attempts,
                                                                     updates=updates))
                    elif self._held is not None:  # PostgreSQL: on a kept connection's driver
                        async with self._held.transaction() as driver:
                            for direct, rows in _attempt_plan(self._held.statements, attempts, updates):
                                await driver.executemany(direct.sql, direct.many(rows))
                    else:
                        async with self._engine.begin() as conn:
                            await conn.run_sync(_record, attempts, updates)
                except Exception as exc:  # the events stay pending in the store: at worst they go out again
                    log.exception("recording delivery attempts failed count=%d", len(updates))
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(RuntimeError(f"the database refused the write: {exc}"))
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
            if self._closing:
                return


def _attempt_plan(statements: DirectStatements, attempts: list[dict[str, Any]],
                  updates: list[dict[str, Any]]) -> Plan:
    """`_record`'s statements as `Direct` ones (store/direct.py)."""
    plan: Plan = []
    if not (add_rows(plan, attempts, lambda keys: statements.insert(delivery_attempts, keys))
            and add_rows(plan, updates, lambda keys: statements.update(events, "event_sid", keys))):
        raise ValueError("delivery attempts of a shape the direct statements cannot bind")
    return plan


def _record_direct(raw: Any, statements: DirectStatements, attempts: list[dict[str, Any]],
                   updates: list[dict[str, Any]]) -> None:
    """`_record` on the writer thread's `sqlite3` connection, statements bound as tuples."""
    cursor = raw.cursor()
    for direct, rows in _attempt_plan(statements, attempts, updates):
        cursor.executemany(direct.sql, direct.many(rows))
    cursor.close()


def _record(conn: Connection, attempts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    """The attempt rows and the events' new status, in the caller's transaction."""
    for i in range(0, len(attempts), MAX_BATCH):
        conn.execute(insert(delivery_attempts), attempts[i:i + MAX_BATCH])
    for i in range(0, len(updates), MAX_BATCH):
        conn.execute(_UPDATE_EVENT, updates[i:i + MAX_BATCH])
