"""The runtime's stop: with webhook deliveries under way, a graceful stop loses no event and no attempt record,
sends no event twice, and writes nothing once the writer has stopped (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from legato.app.legs import CreateLeg
from legato.app.runtime import Runtime
from legato.config import Settings
from legato.events.outbox import Outbox
from legato.store.blocking import Stopped
from legato.store.database import create_engine
from legato.store.repositories import LegRepository
from tests.conftest import DATABASES, database_url
from tests.engine.inprocess import Commits
from tests.events.receivers import Answer, HttpReceiver
from tests.store.support import leg
from tests.waiting import heard, until

HUMAN, EXOPHONE = "09163816621", "08030752400"
LEGS = 3


async def events_of(url: str, leg_sids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each leg's outbox rows, with the attempt rows of each event (`tried`), read on a connection of our own."""
    db = create_engine(url)
    try:
        repo, outbox = LegRepository(db), Outbox(db)
        found = {}
        for leg_sid in leg_sids:
            attempts = await outbox.attempts(leg_sid)
            found[leg_sid] = [{**row, "tried": [a["outcome"] for a in attempts.get(row["event_sid"], [])]}
                              for row in await repo.events(leg_sid)]
        return found
    finally:
        await db.dispose()


@pytest.mark.parametrize("database", DATABASES)
async def test_a_stop_with_deliveries_under_way_loses_nothing_and_sends_nothing_twice(tmp_path: Path,
                                                                                   database: str) -> None:
    url = database_url(database, tmp_path)
    settings = Settings(database_url=url, data_dir=tmp_path, secret_key_file=tmp_path / "legato.key", time_scale=50)
    loop = asyncio.get_running_loop()
    arrived, release = asyncio.Event(), threading.Event()

    def respond(times: int, headers: dict[str, str]) -> Answer:  # on the receiver's thread
        loop.call_soon_threadsafe(arrived.set)
        return Answer(hold=release)  # each request waits at the endpoint until the test lets them all go

    receiver = HttpReceiver(respond)
    try:
        runtime = Runtime(settings)
        commits = Commits()
        runtime.writer.add_listener(commits)
        await runtime.start()
        try:
            made = await runtime.accounts.create(sid="ACstopping", exophones=[EXOPHONE])
            request = CreateLeg(contact_uri=HUMAN, exophone=EXOPHONE, leg_event_endpoint=receiver.url)
            leg_sids = [(await runtime.legs.create(made.account, request)).leg_sid for _ in range(LEGS)]
            for leg_sid in leg_sids:  # events queue behind each leg's first, which is at the endpoint
                await commits.wait(leg_sid, "leg_answered")
            await heard(arrived, lambda: len(receiver.seen) == LEGS, what="each leg's first event at the endpoint")
        finally:
            stopping = asyncio.create_task(runtime.stop())
            # a bounded poll of a real condition: the stop reaches the dispatcher with the attempts under way
            await until(lambda: runtime.dispatcher.stopping or stopping.done(), what="the dispatcher's stop")
            release.set()
            await stopping

        # nothing is written once the writer stopped: a late write, record or job is refused, not reopened
        late = leg("ACstopping")
        with pytest.raises(Stopped):
            await runtime.writer.submit(late, new=True)
        with pytest.raises(Stopped):
            runtime.dispatcher.outbox.record(None, "EVlate", status="pending", attempts=0, next_attempt_at=None,
                                             delivered_at=None)
        if runtime.writer.has_thread:
            with pytest.raises(Stopped):
                await runtime.writer.transact(lambda raw, statements: None)

        at_stop = await events_of(url, leg_sids)
        for leg_sid, rows in at_stop.items():  # the first event was under way: answered, and recorded
            first, *behind = rows
            assert (first["event_name"], first["status"], first["attempts"], first["tried"]) == (
                "leg_connecting", "delivered", 1, ["delivered"]), leg_sid
            assert behind and all((r["status"], r["attempts"], r["tried"]) == ("pending", 0, []) for r in behind)
        assert sorted(receiver.seen) == sorted(rows[0]["event_sid"] for rows in at_stop.values())

        again = Runtime(settings)  # the next start: what was pending goes out, then the legs are reconciled
        await again.start()
        try:
            await until(lambda: events_of(url, leg_sids), lambda found: all(
                rows[-1]["event_name"] == "leg_terminated" and all(r["status"] == "delivered" for r in rows)
                for rows in found.values()), what="every event of the legs delivered")
        finally:
            await again.stop()
    finally:
        release.set()
        receiver.close()

    after = await events_of(url, leg_sids)
    for leg_sid, rows in after.items():  # the same events (then the reconciled end), each delivered at one attempt
        assert [r["event_sid"] for r in rows[:len(at_stop[leg_sid])]] == [r["event_sid"] for r in at_stop[leg_sid]]
        assert all((r["status"], r["attempts"], r["tried"]) == ("delivered", 1, ["delivered"]) for r in rows)
    sent = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert sent == Counter(r["event_sid"] for rows in after.values() for r in rows)  # every event once, same sid
