"""The group-commit writer: legs and their events land together, in order, and a bad write fails alone."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.leg import Leg, LegState, TerminalStatus
from legato.events.outbox import _UPDATE_EVENT, Outbox
from legato.store.blocking import Stopped
from legato.store.database import create_engine, migrate
from legato.store.nodes import NodeRepository
from legato.store.repositories import LegRepository
from legato.store.rows import event_to_row, leg_to_row
from legato.store.tables import delivery_attempts, events
from legato.store.tables import legs as legs_table
from legato.store.writer import _UPDATE, Fenced, Writer
from tests.conftest import DATABASES, database_url
from tests.store.support import NOW, event, leg


@pytest.mark.parametrize("database", DATABASES)
async def test_many_legs_commit_in_batches_with_their_events(tmp_path: Path, database: str) -> None:
    engine = create_engine(database_url(database, tmp_path))
    await migrate(engine)
    writer = Writer(engine)
    committed: list[int] = []
    writer.add_listener(lambda rows: committed.append(len(rows)))
    await writer.start()
    legs = [leg() for _ in range(300)]
    futures = [writer.submit(item, [event(item, "leg_connecting")], new=True, endpoint="http://x") for item in legs]
    for item in legs:  # a later snapshot of the same leg, possibly in the same batch
        item.state = LegState.CONNECTING
        futures.append(writer.submit(item, [event(item, "leg_ringing")]))
    await asyncio.gather(*futures)
    # a duplicate insert fails alone; the rest of its batch still commits
    dup = writer.submit(legs[0], [], new=True)
    fine = leg()
    ok = writer.submit(fine, [event(fine, "leg_connecting")], new=True)
    with pytest.raises(RuntimeError):
        await dup
    await ok
    await writer.stop()
    repo = LegRepository(engine)
    stored = await repo.get("acct", legs[-1].leg_sid)
    assert stored is not None and stored.state is LegState.CONNECTING and stored.event_sequence == 2
    assert [e["event_name"] for e in await repo.events(legs[-1].leg_sid)] == ["leg_connecting", "leg_ringing"]
    assert sum(committed) == 601
    assert len(committed) < 600  # grouped, not one transaction per write
    assert await repo.get("acct", fine.leg_sid) is not None
    await engine.dispose()


async def node_writer(tmp_path: Path, database: str) -> tuple[AsyncEngine, NodeRepository, Writer]:
    """A new database with node "a" at epoch 1 (lease expired at NOW) and a started writer of that node."""
    engine = create_engine(database_url(database, tmp_path))
    await migrate(engine)
    nodes = NodeRepository(engine)
    assert await nodes.insert("a", 1, NOW, NOW, "host", 1)
    writer = Writer(engine)
    writer.owner = ("a", 1)
    await writer.start()
    return engine, nodes, writer


@pytest.mark.parametrize("database", DATABASES)
async def test_a_node_taken_over_writes_nothing_more(tmp_path: Path, database: str) -> None:
    engine, nodes, writer = await node_writer(tmp_path, database)
    before = leg()
    await writer.submit(before, [event(before, "leg_connecting")], new=True)
    assert await nodes.take("a", 1)  # another node takes the name over: epoch 2 fences epoch 1
    after = leg()
    with pytest.raises(Fenced):
        await writer.submit(after, [event(after, "leg_connecting")], new=True)
    assert writer.fenced and not writer.available
    with pytest.raises(Fenced):
        await writer.submit(before, [])
    await writer.stop()
    repo = LegRepository(engine)
    stored = await repo.get("acct", before.leg_sid)
    assert stored is not None and await repo.get("acct", after.leg_sid) is None
    await engine.dispose()


@pytest.mark.parametrize("database", DATABASES)
async def test_rows_are_stored_as_sqlalchemy_itself_stores_them(tmp_path: Path, database: str) -> None:
    """The writer binds its rows without SQLAlchemy's execution (store/direct.py): what the database holds for a
    leg, its events and its delivery attempt is what SQLAlchemy's own INSERT and UPDATE store for the same rows."""
    engine, writer, outbox = await _running(database, tmp_path)
    india = timezone(timedelta(hours=5, minutes=30))
    fields = {"custom_param": "naïve \"quotes\" 'and' ünïcode", "amd_enable": True, "dc_code": None,
              "date_created": datetime(2026, 5, 1, 17, 30, 0, 123456, tzinfo=india)}
    ours, theirs = leg(**fields), leg(**fields)
    for item in (ours, theirs):
        item.extra["note"] = "ü"  # type: ignore[index]
    first = {item.leg_sid: [event(item, "leg_connecting")] for item in (ours, theirs)}
    await writer.submit(ours, first[ours.leg_sid], new=True, endpoint="http://x")
    for item in (ours, theirs):
        item.state, item.terminal_status = LegState.TERMINAL, TerminalStatus.BUSY
        item.end_time, item.hangup_cause_code = datetime(2026, 5, 1, 12, 1, tzinfo=UTC), 17
    second = {item.leg_sid: [event(item, "leg_terminated")] for item in (ours, theirs)}
    await writer.submit(ours, second[ours.leg_sid], endpoint="http://x")
    attempt = {"attempt": 1, "attempted_at": datetime(2026, 5, 1, 12, 2, tzinfo=india), "endpoint": "http://x",
               "outcome": "delivered", "status_code": 204, "status": "No Content", "latency_ms": 3, "error": None}
    done = {"status": "delivered", "attempts": 1, "next_attempt_at": None,
            "delivered_at": datetime(2026, 5, 1, 12, 2, tzinfo=UTC)}
    recorded = outbox.record({**attempt, "event_sid": second[ours.leg_sid][0].event_sid, "subject_sid": ours.leg_sid},
                             second[ours.leg_sid][0].event_sid, durable=True, **done)
    assert recorded is not None
    await recorded
    await outbox.stop()
    await writer.stop()

    def sqlalchemy_row(row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "node": None, "node_epoch": None}

    async with engine.begin() as conn:  # the same writes through SQLAlchemy's execution
        await conn.execute(insert(legs_table), [sqlalchemy_row(leg_to_row(theirs))])
        await conn.execute(insert(events), [event_to_row(e, "http://x") for e in first[theirs.leg_sid]])
        changed = sqlalchemy_row(leg_to_row(theirs))
        await conn.execute(_UPDATE["legs"], [{**{k: v for k, v in changed.items() if k != "leg_sid"},
                                              "b_leg_sid": theirs.leg_sid}])
        await conn.execute(insert(events), [event_to_row(e, "http://x") for e in second[theirs.leg_sid]])
        await conn.execute(insert(delivery_attempts), [{**attempt, "event_sid": second[theirs.leg_sid][0].event_sid,
                                                        "subject_sid": theirs.leg_sid}])
        await conn.execute(_UPDATE_EVENT, [{**done, "b_event_sid": second[theirs.leg_sid][0].event_sid}])

    sids: dict[str, str] = {}

    async def stored(item: Leg) -> list[Any]:
        """The raw stored values (as the database hands them back, no result processing), sids and ids aside."""
        made = first[item.leg_sid] + second[item.leg_sid]
        sids.clear()
        sids.update({item.leg_sid: "LEG", **{e.event_sid: f"EV{e.sequence}" for e in made}})
        found: list[Any] = []
        async with engine.connect() as conn:
            for table, column in ((legs_table, "leg_sid"), (events, "subject_sid"), (delivery_attempts, "subject_sid")):
                rows = await conn.exec_driver_sql(f"SELECT * FROM {table.name} WHERE {column} = '{item.leg_sid}' "
                                                  "ORDER BY id" if table is not legs_table else
                                                  f"SELECT * FROM {table.name} WHERE {column} = '{item.leg_sid}'")
                found.extend({k: unsid(v) for k, v in row.items() if k != "id"} for row in rows.mappings())
        return found

    def unsid(value: Any) -> Any:
        if isinstance(value, dict | list):  # JSON as the PostgreSQL driver decodes it
            value = json.dumps(value, sort_keys=True)
        if isinstance(value, str):
            for sid, name in sids.items():
                value = value.replace(sid, name)
        return value

    ours_stored, theirs_stored = await stored(ours), await stored(theirs)
    assert len(ours_stored) == 4 and ours_stored == theirs_stored
    await engine.dispose()


@pytest.mark.parametrize("database", DATABASES)
async def test_stop_is_final_a_later_write_or_record_is_refused(tmp_path: Path, database: str) -> None:
    """Stopped in order (the outbox's recorder, then the writer): what was queued is written, and anything given
    later is refused with Stopped, never queued forever nor written on a reopened connection."""
    engine, writer, outbox = await _running(database, tmp_path)
    queued = leg()
    made = [event(queued, "leg_connecting")]
    written = writer.submit(queued, made, new=True, endpoint="http://x")
    await written
    recorded = outbox.record(None, made[0].event_sid, status="failed", attempts=0, next_attempt_at=None,
                             delivered_at=None, durable=True)
    last = writer.submit(queued, [event(queued, "leg_ringing")], endpoint="http://x")  # queued at the stop: written
    await outbox.stop()
    await writer.stop()
    assert recorded is not None and recorded.done() and recorded.exception() is None
    assert last.done() and last.exception() is None

    late = leg()
    with pytest.raises(Stopped, match="writer has stopped"):
        await writer.submit(late, [event(late, "leg_connecting")], new=True)
    with pytest.raises(Stopped, match="recorder of delivery attempts has stopped"):
        outbox.record(None, made[0].event_sid, status="pending", attempts=0, next_attempt_at=None,
                      delivered_at=None)
    if writer.has_thread:
        with pytest.raises(Stopped, match="legato-writer has stopped"):
            await writer.transact(lambda raw, statements: None)
    await writer.stop()  # again: nothing more
    await outbox.stop()
    repo = LegRepository(engine)
    assert await repo.get("acct", late.leg_sid) is None
    stored = await repo.events(queued.leg_sid)
    assert [(e["event_name"], e["status"]) for e in stored] == [("leg_connecting", "failed"),
                                                                ("leg_ringing", "pending")]
    await engine.dispose()


async def _running(database: str, tmp_path: Path) -> tuple[Any, Writer, Outbox]:
    """A migrated database's engine with a started writer and attempt recorder on it (as the runtime wires them)."""
    engine = create_engine(database_url(database, tmp_path))
    await migrate(engine)
    writer = Writer(engine)
    outbox = Outbox(engine)
    outbox.writer = writer if writer.has_thread else None
    await writer.start()
    await outbox.start()
    return engine, writer, outbox
