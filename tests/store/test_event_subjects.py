"""Event streams in the outbox: each event names its subject (leg, bridge, conference); listings and takeovers
keep to one subject, and migration 0015 gives existing rows theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, Table, insert, select

from legato.domain.bridge import BRIDGE_EVENT, Bridge
from legato.domain.events import LegEvent
from legato.domain.ids import new_bridge_sid, new_event_sid
from legato.store.database import _MIGRATIONS, create_engine, migrate
from legato.store.repositories import BridgeRepository, LegRepository
from legato.store.rows import bridge_to_row
from legato.store.tables import bridges, conferences, events
from tests.conftest import DATABASES, database_url
from tests.store.test_writer import event, leg, node_writer

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def bridge_event(bridge: Bridge, name: str) -> LegEvent:
    bridge.event_sequence += 1
    return LegEvent(new_event_sid(), bridge.bridge_sid, bridge.account_sid, bridge.event_sequence, name,
                    BRIDGE_EVENT, NOW, {"bridge_sid": bridge.bridge_sid})


@pytest.mark.parametrize("database", DATABASES)
async def test_a_bridge_has_its_own_event_stream(tmp_path: Path, database: str) -> None:
    engine, nodes, writer = await node_writer(tmp_path, database)
    first, second = leg(), leg()
    await writer.submit(first, [event(first, "leg_answered")], new=True, endpoint="http://x")
    await writer.submit(second, [event(second, "leg_answered")], new=True, endpoint="http://x")
    bridge = Bridge(new_bridge_sid(), "acct", "call", None, [first.leg_sid, second.leg_sid], "http://b", True, NOW)
    names = ["bridge_created", "leg_joined_bridge", "leg_joined_bridge"]
    await writer.submit_bridge(bridge_to_row(bridge), [bridge_event(bridge, n) for n in names], new=True,
                               endpoint="http://b")
    await writer.submit(first, [event(first, "leg_joined_bridge")])
    await writer.submit_bridge(bridge_to_row(bridge), [bridge_event(bridge, "bridge_terminated")],
                               endpoint="http://b")
    await writer.stop()

    listed = await BridgeRepository(engine).events(bridge.bridge_sid)
    assert [(e["sequence"], e["event_name"]) for e in listed] == list(enumerate([*names, "bridge_terminated"], 1))
    assert {(e["subject"], e["subject_sid"], e["endpoint"]) for e in listed} == {("bridge", bridge.bridge_sid,
                                                                                   "http://b")}
    legs = LegRepository(engine)
    assert [e["event_name"] for e in await legs.events(first.leg_sid)] == ["leg_answered", "leg_joined_bridge"]
    assert await legs.events(bridge.bridge_sid) == []  # a leg's listing never shows a bridge's event
    assert await BridgeRepository(engine).events(first.leg_sid) == []

    # a survivor inherits the bridge's undelivered events with the legs', each stream in order
    assert await nodes.take("a", 1)  # lapsed: taken over at epoch 2 below by node "b"
    assert await nodes.insert("b", 1, NOW, NOW, "host", 2)
    got = await nodes.take_over("a", 2, NOW, "b", 1)
    assert got is not None and [b["bridge_sid"] for b in got.bridges] == [bridge.bridge_sid]
    inherited = [(e["subject"], e["subject_sid"], e["sequence"]) for e in got.events]
    assert [s for s in inherited if s[0] == "bridge"] == [("bridge", bridge.bridge_sid, n) for n in range(1, 5)]
    assert {s[1] for s in inherited if s[0] == "leg"} == {first.leg_sid, second.leg_sid}
    await engine.dispose()


def _alembic(connection: Connection, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def _old_event(sid: str, sequence: int) -> dict[str, object]:
    return {"event_sid": new_event_sid(), "leg_sid": sid, "account_sid": "acct", "sequence": sequence,
            "event_name": "x", "event_type": "t", "timestamp": NOW, "payload": {}, "endpoint": None,
            "status": "undeliverable", "attempts": 0}


@pytest.mark.parametrize("database", DATABASES)
async def test_migration_gives_existing_events_their_subject(tmp_path: Path, database: str) -> None:
    engine = create_engine(database_url(database, tmp_path))
    async with engine.begin() as conn:
        await conn.run_sync(_alembic, "0012_cluster")
    bridge = Bridge(new_bridge_sid(), "acct", "call", None, ["L1", "L2"], None, True, NOW)
    conference_row = {"conference_sid": "CF1", "account_sid": "acct", "name": "room", "record": False,
                      "max_participants": 10, "end_when_empty": True, "participants": [], "state": "active",
                      "date_created": NOW, "date_updated": NOW, "event_sequence": 1}
    async with engine.begin() as conn:
        old_events = await conn.run_sync(lambda c: Table("events", MetaData(), autoload_with=c))  # with leg_sid
        await conn.execute(insert(bridges), bridge_to_row(bridge))
        await conn.execute(insert(conferences), conference_row)
        await conn.execute(insert(old_events), [_old_event("L1", 1), _old_event("L1", 2),
                                                _old_event(bridge.bridge_sid, 1), _old_event("CF1", 1)])
    await migrate(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(events.c.subject, events.c.subject_sid, events.c.sequence)
                                   .order_by(events.c.id))).all()
    assert [tuple(r) for r in rows] == [("leg", "L1", 1), ("leg", "L1", 2), ("bridge", bridge.bridge_sid, 1),
                                        ("conference", "CF1", 1)]
    async with engine.begin() as conn:
        await conn.run_sync(_alembic, "0012_cluster", True)  # and back
        back = await conn.run_sync(lambda c: Table("events", MetaData(), autoload_with=c))
    assert "leg_sid" in back.c and "subject" not in back.c
    await engine.dispose()
