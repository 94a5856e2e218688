"""The group-commit writer: legs and their events land together, in order, and a bad write fails alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.leg import LegState
from legato.store.database import create_engine, migrate
from legato.store.nodes import NodeRepository
from legato.store.repositories import LegRepository
from legato.store.writer import Fenced, Writer
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
