"""The store's reads, on SQLite and PostgreSQL: an account sees only its own rows, pages are newest first and
continue where the last one ended, the outbox hands out what is still to deliver, and a node's lease fences it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.bridge import Bridge
from legato.domain.ids import new_bridge_sid
from legato.domain.leg import Direction, LegState
from legato.events.outbox import Outbox
from legato.store.nodes import NodeRepository
from legato.store.repositories import AccountRepository, BridgeRepository, LegRepository
from legato.store.rows import bridge_to_row
from legato.store.writer import Writer
from tests.conftest import DATABASES
from tests.store.support import NOW, event, leg, migrated


@pytest.fixture(params=DATABASES)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with migrated(request.param, tmp_path) as engine:
        yield engine


@asynccontextmanager
async def writing(engine: AsyncEngine, owner: tuple[str, int] | None = None) -> AsyncIterator[Writer]:
    """A started writer (stamping rows with `owner`), stopped at the end."""
    writer = Writer(engine)
    writer.owner = owner
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()


async def test_legs_are_the_accounts_own_newest_first_page_by_page(db: AsyncEngine) -> None:
    repo = LegRepository(db)
    made = [leg(date_created=NOW + timedelta(minutes=i), call_sid="call-1" if i < 2 else "call-2")
            for i in range(5)]
    made[3].direction = Direction.INBOUND
    made[4].state = LegState.TERMINAL
    stranger = leg("other", call_sid="call-1")
    async with writing(db) as writer:
        for item in [*made, stranger]:
            await writer.submit(item, [event(item, "leg_connecting")], new=True)
    sids = [item.leg_sid for item in made]

    first = await repo.page("acct", state=None, direction=None, date_from=None, date_to=None, limit=2, before=None)
    assert [item.leg_sid for item in first] == [sids[4], sids[3]]
    second = await repo.page("acct", state=None, direction=None, date_from=None, date_to=None, limit=2,
                             before=first[-1].leg_sid)
    last = await repo.page("acct", state=None, direction=None, date_from=None, date_to=None, limit=2,
                           before=second[-1].leg_sid)
    assert [item.leg_sid for item in first + second + last] == sids[::-1]  # each leg once, newest first

    async def only(**filters: object) -> list[str]:
        found = await repo.page("acct", **{"state": None, "direction": None, "date_from": None, "date_to": None,
                                           "limit": 10, "before": None, **filters})  # type: ignore[arg-type]
        return [item.leg_sid for item in found]

    assert await only(direction="inbound") == [sids[3]]
    assert await only(state="terminal") == [sids[4]]
    assert await only(date_from=NOW + timedelta(minutes=1), date_to=NOW + timedelta(minutes=3)) == [sids[2], sids[1]]
    window = await repo.created_between("acct", NOW + timedelta(minutes=3), None, 10)
    assert [item.leg_sid for item in window] == [sids[4], sids[3]]
    assert [item.leg_sid for item in await repo.by_call("acct", "call-1")] == sids[:2]  # oldest first
    assert await repo.count_live("acct") == 4
    assert await repo.get("other", made[0].leg_sid) is None  # another account's leg is not found
    assert await repo.by_call("other", "call-2") == []
    stored = await repo.get("acct", made[3].leg_sid)
    assert stored is not None and stored.direction is Direction.INBOUND and stored.date_created == made[3].date_created


async def test_the_outbox_hands_out_pending_events_per_leg_in_order(db: AsyncEngine) -> None:
    one, two = leg(), leg()
    async with writing(db) as writer:
        for item in (one, two):
            await writer.submit(item, [event(item, "leg_connecting")], new=True, endpoint="http://x")
            await writer.submit(item, [event(item, "leg_ringing"), event(item, "leg_answered")], endpoint="http://x")
        await writer.submit(one, [event(one, "leg_terminated")])  # no endpoint: nothing to deliver
    assert [e["event_name"] for e in await LegRepository(db).events(one.leg_sid)] == [
        "leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]

    outbox = Outbox(db)
    pending = await outbox.claim_pending()
    assert [(row["subject_sid"], row["sequence"]) for row in pending] == sorted(
        (item.leg_sid, n) for item in (one, two) for n in (1, 2, 3))
    first = pending[0]
    await outbox.start()
    attempt = {"event_sid": first["event_sid"], "subject_sid": first["subject_sid"], "attempt": 1, "attempted_at": NOW,
               "endpoint": "http://x", "outcome": "delivered", "status_code": 200, "status": "OK", "latency_ms": 3,
               "error": None}
    done = outbox.record(attempt, first["event_sid"], status="delivered", attempts=1, next_attempt_at=None,
                         delivered_at=NOW, durable=True)
    assert done is not None
    await done
    await outbox.stop()
    assert first["event_sid"] not in {row["event_sid"] for row in await outbox.claim_pending()}
    delivered = await outbox.event(first["subject_sid"], first["event_sid"])
    assert delivered is not None and (delivered["status"], delivered["attempts"]) == ("delivered", 1)
    assert await outbox.event("another-leg", first["event_sid"]) is None
    attempts = await outbox.attempts(first["subject_sid"])
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in attempts[first["event_sid"]]] == [
        (1, "delivered", 200)]


async def test_a_lapsed_nodes_work_goes_to_one_survivor_once(db: AsyncEngine) -> None:
    nodes = NodeRepository(db)
    lease = NOW + timedelta(seconds=30)
    assert await nodes.insert("a", 1, lease, NOW, "host-a", 1, bus=True)
    assert await nodes.insert("b", 1, lease, NOW, "host-b", 2, bus=True)
    assert await nodes.insert("idle", 1, NOW, NOW, "host-c", 3, bus=True)  # lapses at once, holds nothing
    assert not await nodes.insert("a", 1, lease, NOW, "elsewhere", 9)  # the name is taken
    live, ended = leg(), leg(state=LegState.TERMINAL)
    async with writing(db, owner=("a", 1)) as writer:
        await writer.submit(live, [event(live, "leg_connecting")], new=True, endpoint="http://x")
        await writer.submit(ended, [event(ended, "leg_terminated")], new=True)
        bridge = Bridge(new_bridge_sid(), "acct", "call", None, [live.leg_sid], None, True, NOW)
        await writer.submit_bridge(bridge_to_row(bridge), [], new=True)

    assert [row["name"] for row in await nodes.live(NOW)] == ["a", "b"]
    later = lease + timedelta(seconds=1)
    assert await nodes.live(later) == []
    assert await nodes.expired_with_work(later, me="b") == [("a", 1)]  # "idle" has nothing to take
    assert await nodes.expired_with_work(later, me="a") == []  # never itself
    assert await nodes.expired_with_work(NOW, me="b") == []  # a's lease still holds

    got = await nodes.take_over("a", 1, later, "b", 1)
    assert got is not None
    assert [row["leg_sid"] for row in got.legs] == [live.leg_sid]
    assert [row["bridge_sid"] for row in got.bridges] == [bridge.bridge_sid]
    assert [row["event_name"] for row in got.events] == ["leg_connecting"]
    assert await nodes.take_over("a", 1, later, "c", 1) is None  # a second survivor gets nothing
    assert [item.leg_sid for item in await LegRepository(db).live("b")] == [live.leg_sid]
    assert await LegRepository(db).live("a") == []
    assert await nodes.owner_of("legs", "acct", live.leg_sid) == ("b", True)
    assert await nodes.owner_of("legs", "other", live.leg_sid) is None
    assert [row["bridge_sid"] for row in await BridgeRepository(db).active("b")] == [bridge.bridge_sid]
    assert await Outbox(db, owner="b").claim_pending() != []
    assert await Outbox(db, owner="a").claim_pending() == []

    assert not await nodes.renew("a", 1, later + timedelta(seconds=30), later)  # a came back: fenced
    assert not await nodes.take("a", 1)  # its old epoch cannot be taken twice
    row = await nodes.get("a")
    assert row is not None and row["epoch"] == 2


async def test_bridges_are_the_accounts_own_newest_first(db: AsyncEngine) -> None:
    repo = BridgeRepository(db)
    made = [Bridge(new_bridge_sid(), "acct", f"call-{i}", None, ["L1", "L2"], None, True, NOW + timedelta(seconds=i))
            for i in range(3)]
    made[0].end(NOW + timedelta(seconds=9), "stopped")
    stranger = Bridge(new_bridge_sid(), "other", "call-x", None, ["L3", "L4"], None, False, NOW)
    async with writing(db, owner=None) as writer:
        for bridge in [*made, stranger]:
            await writer.submit_bridge(bridge_to_row(bridge), [], new=True)
    assert [row["bridge_sid"] for row in await repo.recent("acct", 2)] == [made[2].bridge_sid, made[1].bridge_sid]
    assert await repo.get("other", made[0].bridge_sid) is None
    ended = await repo.get("acct", made[0].bridge_sid)
    assert ended is not None and (ended["state"], ended["end_reason"]) == ("terminated", "stopped")
    assert ended["leg_sids"] == ["L1", "L2"] and ended["end_time"] == NOW + timedelta(seconds=9)


async def test_an_api_key_finds_only_its_account(db: AsyncEngine) -> None:
    repo = AccountRepository(db)
    for n, sid in enumerate(("acme", "globex")):
        await repo.insert({"account_sid": sid, "name": sid.title(), "api_key": f"key_{sid}", "token_hash": "h",
                           "webhook_secret_enc": "sealed", "exophones": ["+918030752400"], "settings": {},
                           "created_at": NOW + timedelta(seconds=n), "updated_at": NOW})
    found = await repo.by_api_key("key_globex")
    assert found is not None and found["account_sid"] == "globex"
    assert await repo.by_api_key("key_nobody") is None
    await repo.update("acme", {"cps": 5, "exophones": ["+918030752400", "+918030752401"]})
    acme = await repo.get("acme")
    assert acme is not None and acme["cps"] == 5 and acme["exophones"] == ["+918030752400", "+918030752401"]
    assert [row["account_sid"] for row in await repo.all()] == ["acme", "globex"]
    assert await repo.get("initech") is None
