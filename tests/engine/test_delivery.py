"""Engine to endpoint in process: the Dispatcher delivers committed events to an in-memory sink, per leg in order,
retrying an event with its own event_sid, holding a failing endpoint shut, giving up on the manual clock."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from legato.domain import machine as m
from legato.events.dispatcher import Dispatcher
from legato.events.outbox import Outbox
from legato.events.signature import SignedEvent
from legato.events.sinks import Result
from tests.engine.inprocess import WAIT, Engine, dial_until, engine
from tests.waiting import heard

BUSY, HUMAN = "+919163810001", "+919163810010"  # busy: leg_connecting then leg_terminated at 1 s
DELIVERED, UNAVAILABLE = Result("delivered", 200, "OK"), Result("retry", 503, "Service Unavailable")
FAST = 1000.0  # backoff waits run this much faster than the clock's seconds (1 s: 1 ms)


@dataclass
class Call:
    """One attempt the sink was given, and what it answered."""

    endpoint: str
    payload: dict[str, Any]
    signed: SignedEvent
    result: Result

    @property
    def name(self) -> str:
        return str(self.payload["event_name"])

    @property
    def leg_sid(self) -> str:
        return str(self.payload["event_data"]["data"]["leg_sid"])


Respond = Callable[[str, dict[str, Any]], Result | Awaitable[Result]]


class MemorySink:
    """A sink that answers as `respond` says (delivered by default) and keeps every attempt."""

    def __init__(self, respond: Respond | None = None) -> None:
        self.respond = respond or (lambda endpoint, payload: DELIVERED)
        self.calls: list[Call] = []
        self.changed = asyncio.Event()

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        result = self.respond(endpoint, payload)
        if inspect.isawaitable(result):
            result = await result
        self.calls.append(Call(endpoint, payload, event, result))
        self.changed.set()
        return result

    async def aclose(self) -> None:
        pass

    def of(self, leg_sid: str, outcome: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.leg_sid == leg_sid and outcome in (None, c.result.outcome)]

    async def until(self, check: Callable[[], bool]) -> None:
        """Return once `check()` holds after some attempt (AssertionError after WAIT s)."""
        await heard(self.changed, check, seconds=WAIT,
                    what=lambda: f"the check; attempts: {[(c.name, c.result.outcome) for c in self.calls]}")


async def secret(account_sid: str) -> str:
    return "whsec_" + "A" * 43


@asynccontextmanager
async def delivering(e: Engine, sink: MemorySink) -> AsyncIterator[Dispatcher]:
    """A started dispatcher over the engine's outbox, told of every commit; stopped (its records written) at the end."""
    dispatcher = Dispatcher(Outbox(e.db), {"mem": sink}, secret, e.clock, time_scale=FAST)
    e.writer.add_listener(dispatcher.on_commit)
    await dispatcher.start()
    try:
        yield dispatcher
    finally:
        await dispatcher.stop()


async def test_events_reach_the_endpoint_in_order_signed(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        sink = MemorySink()
        async with delivering(e, sink):
            leg = await dial_until(e, HUMAN, 3.0, "leg_answered", endpoint="mem://app/events")
            await e.switchboard.command(leg.leg_sid, m.Hangup())
            await sink.until(lambda: len(sink.calls) == 4)
        assert [c.name for c in sink.calls] == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
        assert [c.payload["sequence"] for c in sink.calls] == [1, 2, 3, 4]
        assert {c.endpoint for c in sink.calls} == {"mem://app/events"}
        assert all(c.signed.headers["webhook-signature"].startswith("v1,") for c in sink.calls)


async def test_a_retried_event_keeps_its_event_sid_backs_off_and_holds_its_leg(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("legato.events.dispatcher.random.random", lambda: 1.0)  # no jitter: the nominal waits
    answers = iter([UNAVAILABLE, UNAVAILABLE, Result("retry", 429, "Too Many Requests", retry_after=120.0)])
    sink = MemorySink(lambda endpoint, payload: next(answers, DELIVERED))
    scheduled: list[tuple[str, int, float | None]] = []
    async with engine(tmp_path) as e:
        async with delivering(e, sink) as dispatcher:
            record = dispatcher.outbox.record

            def noted(attempt: Any, event_sid: str, **kwargs: Any) -> Any:
                later = kwargs["next_attempt_at"]  # on the clock, from the attempt's start
                wait = None if later is None else (later - attempt["attempted_at"]).total_seconds()
                scheduled.append((kwargs["status"], kwargs["attempts"], wait))
                return record(attempt, event_sid, **kwargs)

            dispatcher.outbox.record = noted  # type: ignore[method-assign]
            leg = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://app/events")
            await sink.until(lambda: len(sink.of(leg.leg_sid, "delivered")) == 2)
        stored = await Outbox(e.db).attempts(leg.leg_sid)
    connecting = [c for c in sink.calls if c.name == "leg_connecting"]
    assert [c.result.status_code for c in connecting] == [503, 503, 429, 200]
    assert len({c.signed.event_sid for c in connecting}) == 1  # one event, sent four times
    assert {c.signed.headers["webhook-id"] for c in connecting} == {connecting[0].signed.event_sid}
    assert [c.name for c in sink.calls] == ["leg_connecting"] * 4 + ["leg_terminated"]  # never overtaken
    assert scheduled[:4] == [("pending", 1, 1.0), ("pending", 2, 2.0), ("pending", 3, 120.0),  # Retry-After
                             ("delivered", 4, None)]
    assert [a["outcome"] for a in stored[connecting[0].signed.event_sid]] == ["retry"] * 3 + ["delivered"]


async def test_an_event_is_given_up_a_day_after_it_was_made_on_the_clock(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        def ten_hours_each(endpoint: str, payload: dict[str, Any]) -> Result:
            e.clock.advance(10 * 3600)  # every attempt takes the endpoint ten hours of clock time
            return UNAVAILABLE

        sink = MemorySink(ten_hours_each)
        async with delivering(e, sink):
            leg = await dial_until(e, BUSY, 1.0, "leg_connecting", endpoint="mem://app/events")
            await sink.until(lambda: len(sink.of(leg.leg_sid)) >= 3)
        outbox = Outbox(e.db)
        rows = {row["event_name"]: row for row in await e.legs.events(leg.leg_sid)}
        first = rows["leg_connecting"]
        assert (first["status"], first["attempts"]) == ("failed", 3)  # 30 h after it was made: given up
        [last] = [a for a in (await outbox.attempts(leg.leg_sid))[first["event_sid"]] if a["outcome"] == "failed"]
        assert last["error"].startswith("gave up after 3 attempts")


async def test_a_failing_endpoint_is_held_shut_and_probed_by_one_event(tmp_path: Path) -> None:
    down = True
    sink = MemorySink(lambda endpoint, payload: UNAVAILABLE if down and "down" in endpoint else DELIVERED)
    async with engine(tmp_path) as e, delivering(e, sink) as dispatcher:
        probing = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://down/events")
        await sink.until(lambda: len(sink.of(probing.leg_sid)) >= 2)
        assert dispatcher.held_shut == 1
        waiting = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://down/events")
        elsewhere = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://down/other")
        await sink.until(lambda: len(sink.of(elsewhere.leg_sid, "retry")) >= 1 and len(sink.of(probing.leg_sid)) >= 5)
        assert sink.of(waiting.leg_sid) == []  # it waits for the probe without a request of its own
        assert dispatcher.held_shut == 2  # another URL has a gate of its own
        down = False
        await sink.until(lambda: all(len(sink.of(leg.leg_sid, "delivered")) == 2
                                     for leg in (probing, waiting, elsewhere)))
        assert dispatcher.held_shut == 0
    assert [c.name for c in sink.of(waiting.leg_sid)] == ["leg_connecting", "leg_terminated"]  # one request each


async def test_a_slow_endpoint_holds_only_its_own_legs(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def respond(endpoint: str, payload: dict[str, Any]) -> Result:
        if "slow" in endpoint:
            await release.wait()
        return DELIVERED

    sink = MemorySink(respond)
    async with engine(tmp_path) as e, delivering(e, sink):
        slow = await dial_until(e, HUMAN, 3.0, "leg_answered", endpoint="mem://slow/events")
        fast = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://fast/events")
        await sink.until(lambda: len(sink.of(fast.leg_sid)) == 2)
        assert sink.of(slow.leg_sid) == []  # its first event is still at the endpoint; the rest wait behind it
        release.set()
        await sink.until(lambda: len(sink.of(slow.leg_sid)) == 3)
    assert [c.payload["sequence"] for c in sink.of(slow.leg_sid)] == [1, 2, 3]


async def test_events_pending_at_stop_go_out_after_the_next_start_with_their_sids(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        refusing = MemorySink(lambda endpoint, payload: UNAVAILABLE)
        async with delivering(e, refusing):
            leg = await dial_until(e, BUSY, 1.0, "leg_terminated", endpoint="mem://app/events")
            await refusing.until(lambda: len(refusing.calls) >= 1)
        sink = MemorySink()
        again = Dispatcher(Outbox(e.db), {"mem": sink}, secret, e.clock, time_scale=FAST)
        assert await again.start() == 2  # both events were still pending in the store
        try:
            await sink.until(lambda: len(sink.calls) == 2)
        finally:
            await again.stop()
        made = [row["event_sid"] for row in await e.legs.events(leg.leg_sid)]
    assert [c.signed.event_sid for c in sink.calls] == made


async def test_a_stop_lets_the_attempt_under_way_finish_and_records_it(tmp_path: Path) -> None:
    """A graceful stop starts no attempt more, but the one under way gets its answer and is recorded before the
    recorder stops: after the next start the endpoint gets only the events queued behind it, each once."""
    at_endpoint, release = asyncio.Event(), asyncio.Event()

    async def held(endpoint: str, payload: dict[str, Any]) -> Result:
        at_endpoint.set()
        await release.wait()
        return DELIVERED

    first = MemorySink(held)
    async with engine(tmp_path) as e:
        dispatcher = Dispatcher(Outbox(e.db), {"mem": first}, secret, e.clock, time_scale=FAST)
        e.writer.add_listener(dispatcher.on_commit)
        await dispatcher.start()
        leg = await dial_until(e, HUMAN, 3.0, "leg_answered", endpoint="mem://app/events")
        await asyncio.wait_for(at_endpoint.wait(), WAIT)
        stopping = asyncio.create_task(dispatcher.stop(grace=WAIT))
        await asyncio.sleep(0)  # one turn of the loop: the stop runs up to its wait for the attempt under way
        assert dispatcher.stopping and not stopping.done()
        release.set()
        await stopping
        rows = {row["event_name"]: row for row in await e.legs.events(leg.leg_sid)}
        attempts = await Outbox(e.db).attempts(leg.leg_sid)
        assert [(c.name, c.result.outcome) for c in first.calls] == [("leg_connecting", "delivered")]
        assert [(name, rows[name]["status"], rows[name]["attempts"]) for name in rows] == [
            ("leg_connecting", "delivered", 1), ("leg_ringing", "pending", 0), ("leg_answered", "pending", 0)]
        assert [a["outcome"] for a in attempts[rows["leg_connecting"]["event_sid"]]] == ["delivered"]

        again = MemorySink()
        restarted = Dispatcher(Outbox(e.db), {"mem": again}, secret, e.clock, time_scale=FAST)
        assert await restarted.start() == 2
        try:
            await again.until(lambda: len(again.calls) == 2)
        finally:
            await restarted.stop()
        delivered = [c.signed.event_sid for c in first.calls + again.calls]
        assert delivered == [row["event_sid"] for row in rows.values()]  # every event once, in order
