"""The group-commit writer: state changes and their events reach the database in one transaction.

Call control submits a leg snapshot together with the events it caused; the writer gathers
whatever is waiting into one transaction (new legs, changed legs, new events), commits, then
resolves each submitter's future and tells listeners which events are now durable. Order is kept:
a later snapshot of a leg always wins over an earlier one.

When the database cannot take the write (connection lost, disk full, file read-only or locked), the
batch is retried with backoff until it can, and everything submitted meanwhile joins it: snapshots
of one leg collapse into the newest, so memory grows with the events made during the outage, not
with every change. Retried inserts tolerate rows an ambiguous earlier commit already wrote. A write
the database refuses for good (a bad row) fails alone, per leg.

On a SQLite file each transaction runs whole in the writer's own thread, on the `sqlite3` connection of a
blocking engine (aiosqlite would cross threads about three times per statement), with statements rendered
once and rows bound as tuples (store/direct.py: SQLAlchemy's per-execution work was ~0.35 ms of CPU per
commit, and at a moderate rate a commit carries a leg or two); on PostgreSQL it goes on a connection the
writer keeps. Either way the statements come from one plan (`_statements`).

Every row is stamped with the owner node and its epoch; with an owner set, each transaction first
checks that the node still holds that epoch, so a node whose name was taken over writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from legato.domain.events import LegEvent
from legato.domain.leg import Leg
from legato.store.batch import Batch, Row
from legato.store.blocking import BlockingThread, Stopped
from legato.store.database import blocking_sqlite_engine, database_unavailable
from legato.store.direct import DirectStatements, Plan, add_rows
from legato.store.held import HeldConnection
from legato.store.rows import event_to_row, leg_to_row
from legato.store.tables import bridges, conferences, events, legs, nodes

log = logging.getLogger(__name__)
MAX_BATCH = 1000
RETRY_FIRST = 0.05  # seconds before the first retry of a write the database could not take; doubles
RETRY_MAX = 1.0

CommitListener = Callable[[list[dict[str, Any]]], None]
"""Called after each commit with the outbox rows just made durable (on the loop thread)."""


class Fenced(RuntimeError):
    """This node's name was taken over (its epoch moved on): it must not write any more."""


def _update(table: Table, key: str) -> Any:
    return (update(table).where(table.c[key] == bindparam("b_" + key))
            .values({c.name: bindparam(c.name) for c in table.columns if c.name != key}))


_FENCE = update(nodes).where(nodes.c.name == bindparam("f_name"), nodes.c.epoch == bindparam("f_epoch")) \
    .values(epoch=bindparam("f_epoch"))
_UPDATE = {"legs": _update(legs, "leg_sid"), "bridges": _update(bridges, "bridge_sid"),
           "conferences": _update(conferences, "conference_sid")}


class Writer:
    """Serialises all writes of call control into group commits."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._blocking = blocking_sqlite_engine(engine)
        self._thread = BlockingThread("legato-writer") if self._blocking else None
        self._direct = DirectStatements(self._blocking.dialect) if self._blocking is not None else None
        self._raw: Any = None  # the writer thread's checkout of the blocking engine's one connection
        self._held = HeldConnection(engine) if engine.dialect.name == "postgresql" else None  # commits go on it
        self._queue = Batch()  # filling
        self._queued = 0
        self._full: list[Batch] = []  # sealed, waiting their turn
        self._current: Batch | None = None  # being written
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[CommitListener] = []
        self._closing = False
        self._down_since: float | None = None
        self.owner: tuple[str, int] | None = None
        self.fenced = False
        self.on_fenced: list[Callable[[], None]] = []

    @property
    def available(self) -> bool:
        """False while the database cannot take writes (they wait and are retried), or once fenced."""
        return self._down_since is None and not self.fenced

    def outage_seconds(self) -> float:
        """How long writes have been failing (0 when they are not)."""
        return 0.0 if self._down_since is None else time.monotonic() - self._down_since

    def add_listener(self, listener: CommitListener) -> None:
        """Be told of each batch of events once it is durable."""
        self._listeners.append(listener)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="legato-writer")

    async def stop(self, drain_for: float | None = None) -> None:
        """Write what is queued, then stop; after `drain_for` seconds give up on what the database did not take.

        Final: a write submitted once the queue is drained, and a `transact` after the stop, are refused with
        Stopped. What writes through the writer (call control, the outbox's recorder) stops before it does."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=drain_for)
            if not done:
                self._task.cancel()
                log.error("stopping with writes the database did not take; the next start reconciles these legs")
                self._settle_all(RuntimeError("stopped before the database took the write"))
        if self._held is not None:
            await self._held.close()
        if self._thread is not None:
            await self._thread.run(self._close_blocking)
            self._thread.stop()

    @property
    def stopped(self) -> bool:
        """Whether the writer has stopped taking writes (its last queued ones written or given up)."""
        return self._closing and (self._task is None or self._task.done())

    @property
    def has_thread(self) -> bool:
        """Whether transactions run whole in the writer's thread (a SQLite file): `transact` is there."""
        return self._blocking is not None

    async def transact(self, work: Callable[[Any, DirectStatements], None]) -> None:
        """Run `work(connection, statements)` in one transaction on the writer's thread (with `has_thread`),
        between its group commits, on its `sqlite3` connection with its `DirectStatements`: the recorder of
        delivery attempts (events/outbox.py) writes there too. Raises Stopped after `stop`."""
        assert self._blocking is not None and self._thread is not None
        await self._thread.run(self._transact_blocking, work)

    def _transact_blocking(self, work: Callable[[Any, DirectStatements], None]) -> None:
        assert self._direct is not None
        raw = self._connection()
        try:
            work(raw, self._direct)
            raw.commit()
        except BaseException:
            with contextlib.suppress(Exception):  # the original error is the one to report
                raw.rollback()
            raise

    def _connection(self) -> Any:
        """The `sqlite3` connection of the blocking engine (its pragmas set), kept checked out by this thread."""
        if self._raw is None:
            assert self._blocking is not None
            self._raw = self._blocking.raw_connection()
        return self._raw.driver_connection

    def _close_blocking(self) -> None:
        if self._raw is not None:
            raw, self._raw = self._raw, None
            with contextlib.suppress(Exception):
                raw.close()
        assert self._blocking is not None
        self._blocking.dispose()

    def submit(self, leg: Leg, new_events: Sequence[LegEvent] = (), *, new: bool = False,
               endpoint: str | None = None) -> asyncio.Future[None]:
        """Queue a snapshot of `leg` (inserted when `new`) and its events; the future resolves on commit."""
        return self._enqueue("leg", leg.leg_sid, self._queue.legs, leg_to_row(leg), new, new_events, endpoint)

    def submit_bridge(self, row: dict[str, Any], new_events: Sequence[LegEvent] = (), *, new: bool = False,
                      endpoint: str | None = None) -> asyncio.Future[None]:
        """Queue a bridge row (inserted when `new`) and its events (subject "bridge")."""
        return self._enqueue("bridge", row["bridge_sid"], self._queue.bridges, dict(row), new, new_events, endpoint)

    def submit_conference(self, row: dict[str, Any], new_events: Sequence[LegEvent] = (), *, new: bool = False,
                          endpoint: str | None = None) -> asyncio.Future[None]:
        """Queue a conference row (inserted when `new`) and its events (subject "conference")."""
        return self._enqueue("conference", row["conference_sid"], self._queue.conferences, dict(row), new, new_events,
                             endpoint)

    def _enqueue(self, subject: str, sid: str, kind: dict[str, Row], row: dict[str, Any], new: bool,
                 new_events: Sequence[LegEvent], endpoint: str | None) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fenced:
            future.set_exception(Fenced("this node was fenced: another process took its name over"))
            return future
        if self.stopped:
            future.set_exception(Stopped(f"the writer has stopped: {subject} {sid} was not written"))
            return future
        row["node"], row["node_epoch"] = self.owner or (None, None)
        self._queue.add(sid, kind, row, new, [event_to_row(e, endpoint, subject) for e in new_events], future)
        self._queued += 1
        if self._queued >= MAX_BATCH:
            self._seal()
        self._wake.set()
        return future

    def _seal(self) -> None:
        if self._queued:
            self._full.append(self._queue)
            self._queue, self._queued = Batch(), 0

    def _absorb_waiting(self, batch: Batch) -> None:
        """Later writes join `batch`: order is kept and snapshots of a leg collapse into the newest."""
        self._seal()
        while self._full:
            batch.absorb(self._full.pop(0))

    def _settle_all(self, error: BaseException) -> None:
        self._seal()
        for batch in [self._current, *self._full]:
            if batch is not None:
                batch.settle(error)
        self._full.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._full or self._queued:
                self._seal()
                self._current = self._full.pop(0)
                await self._commit(self._current)
                self._current = None
            if self._closing:
                return

    async def _commit(self, batch: Batch) -> None:
        retry = 0
        while True:
            try:
                if self._blocking is not None:  # SQLite: the whole transaction in the writer's thread
                    assert self._thread is not None
                    await self._thread.run(self._write_blocking, batch, retry > 0)
                else:
                    await self._write_held(batch, tolerant=retry > 0)
            except Fenced as exc:
                self._fence(batch, exc)
                return
            except Exception as exc:
                if database_unavailable(exc):
                    retry += 1
                    await self._wait_for_database(exc, retry)
                    self._absorb_waiting(batch)
                    continue
                await self._refused(batch, exc)
                return
            break
        if self._down_since is not None:
            log.warning("database writable again after %.1f s", self.outage_seconds())
            self._down_since = None
        batch.settle()
        rows = batch.all_events()
        if rows:
            for listener in self._listeners:
                listener(rows)

    async def _wait_for_database(self, exc: Exception, retry: int) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.error("database write failed; retrying until it is back error=%s", exc)
        await asyncio.sleep(min(RETRY_MAX, RETRY_FIRST * 2 ** min(retry - 1, 10)))

    async def _refused(self, batch: Batch, exc: Exception) -> None:
        """A write the database refuses for good: find it (per sid) and fail it alone."""
        parts = batch.split()
        if len(parts) > 1:
            for part in parts:
                await self._commit(part)
            return
        log.error("write refused sids=%s error=%s", list(batch.futures), exc)
        batch.settle(RuntimeError("the database refused the write"))

    def _fence(self, batch: Batch, exc: Fenced) -> None:
        log.critical("node %s lost its epoch %s: another process took the name over; writing nothing more",
                     *(self.owner or ("?", "?")))
        self.fenced = True
        batch.settle(exc)
        self._settle_all(exc)
        for hook in self.on_fenced:
            hook()

    async def _write(self, conn: AsyncConnection, batch: Batch, *, tolerant: bool) -> None:
        plan = self._statements(batch, tolerant, conn.dialect.name)
        result = None
        while (step := plan.send(result)) is not None:
            result = await conn.execute(*step)

    async def _write_held(self, batch: Batch, *, tolerant: bool) -> None:
        """The batch's transaction on PostgreSQL: on the connection the writer keeps, run on its asyncpg driver
        with statements bound as tuples (store/held.py, store/direct.py); other databases, and rows of a shape
        the direct statements cannot bind, go through SQLAlchemy on a pooled connection."""
        plan = None if self._held is None else self._direct_plan(batch, tolerant, self._held.statements)
        if self._held is None or plan is None:
            async with self._engine.begin() as conn:
                await self._write(conn, batch, tolerant=tolerant)
            return
        async with self._held.transaction() as driver:
            if self.owner is not None:
                name, epoch = self.owner
                fence = self._held.statements.of(_FENCE, ("f_name", "f_epoch"))
                assert fence is not None
                status = await driver.execute(fence.sql, *fence.parameters({"f_name": name, "f_epoch": epoch}))
                if status != "UPDATE 1":
                    raise Fenced(f"node {name} is no longer at epoch {epoch}")
            for direct, rows in plan:
                await driver.executemany(direct.sql, direct.many(rows))

    def _write_blocking(self, batch: Batch, tolerant: bool) -> None:
        """The batch's transaction on the `sqlite3` connection, in the writer's thread: one round trip per
        transaction. Rows of a shape `DirectStatements` cannot bind go through SQLAlchemy (`_statements`)."""
        assert self._blocking is not None and self._direct is not None
        plan = self._direct_plan(batch, tolerant, self._direct)
        if plan is None:
            with self._blocking.begin() as conn:
                steps = self._statements(batch, tolerant, conn.dialect.name)
                result = None
                while (step := steps.send(result)) is not None:
                    result = conn.execute(*step)
            return
        raw = self._connection()
        try:
            cursor = raw.cursor()
            if self.owner is not None:
                name, epoch = self.owner
                fence = self._direct.of(_FENCE, ("f_name", "f_epoch"))
                assert fence is not None
                cursor.execute(fence.sql, fence.parameters({"f_name": name, "f_epoch": epoch}))
                if cursor.rowcount != 1:
                    raise Fenced(f"node {name} is no longer at epoch {epoch}")
            for direct, rows in plan:
                if len(rows) == 1:
                    cursor.execute(direct.sql, direct.parameters(rows[0]))
                else:
                    cursor.executemany(direct.sql, direct.many(rows))
            cursor.close()
            raw.commit()
        except BaseException:
            with contextlib.suppress(Exception):  # the original error is the one to report
                raw.rollback()
            raise

    @staticmethod
    def _direct_plan(batch: Batch, tolerant: bool, direct: DirectStatements) -> Plan | None:
        """`_statements`' INSERTs and UPDATEs as `Direct` statements, rows grouped by shape (None: one cannot be)."""
        plan: Plan = []
        for table, rows in ((legs, batch.legs), (bridges, batch.bridges), (conferences, batch.conferences)):
            if not rows:
                continue
            key = table.primary_key.columns.keys()[0]
            fresh = [r.row for r in rows.values() if r.new]
            if fresh and not add_rows(plan, fresh, lambda keys, t=table: direct.insert(t, keys, tolerant)):
                return None
            changed = [r.row for r in rows.values() if tolerant or not r.new]
            if changed and not add_rows(plan, changed, lambda keys, t=table, k=key: direct.update(t, k, keys)):
                return None
        rows = batch.all_events()
        if rows and not add_rows(plan, rows, lambda keys: direct.insert(events, keys, tolerant)):
            return None
        return plan

    def _statements(self, batch: Batch, tolerant: bool, dialect: str) -> Generator[Any, Any, None]:
        """The transaction's statements with their parameters, each sent back its result; None at the end."""
        if self.owner is not None:
            name, epoch = self.owner
            fence = update(nodes).where(nodes.c.name == name, nodes.c.epoch == epoch).values(epoch=epoch)
            if (yield (fence,)).rowcount != 1:
                raise Fenced(f"node {name} is no longer at epoch {epoch}")
        for table, rows in ((legs, batch.legs), (bridges, batch.bridges), (conferences, batch.conferences)):
            key = table.primary_key.columns.keys()[0]
            fresh = [r.row for r in rows.values() if r.new]
            if fresh:
                yield _insert(dialect, table, tolerant), fresh
            changed = [r.row for r in rows.values() if tolerant or not r.new]
            if changed:
                yield _UPDATE[table.name], [{**{k: v for k, v in row.items() if k != key}, "b_" + key: row[key]}
                                            for row in changed]
        rows = batch.all_events()
        if rows:
            yield _insert(dialect, events, tolerant), rows
        yield None


def _insert(dialect: str, table: Table, tolerant: bool) -> Any:
    """INSERT; `tolerant` skips rows already there (a retry after a commit whose outcome was unknown)."""
    if not tolerant:
        return insert(table)
    return (postgresql if dialect == "postgresql" else sqlite).insert(table).on_conflict_do_nothing()
