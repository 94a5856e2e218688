"""The dispatcher: delivers outbox events after commit, in order per subject, retrying with backoff.

Each subject (a leg, a bridge, a conference) with events to deliver has its own queue and its own task,
which sends the queue's head and moves on only once it is delivered or given up; so a leg's event n+1
never overtakes event n, while legs (and therefore endpoints) never wait for each other. Waiting for a
slow endpoint occupies only the tasks of the legs that use it, and connection pools are per host.

Retry schedule (documented in the README, "Events"): attempt 1 at once; after a retryable failure (timeout,
connection error, HTTP 408/429/5xx, gRPC UNAVAILABLE/DEADLINE_EXCEEDED/RESOURCE_EXHAUSTED) wait
`base * 2**(n-1)` seconds, jittered to 50-100 %, at most `cap`, and at least what Retry-After asks;
an event still undelivered `give_up_after` seconds after it was made is given up (status `failed`).
Waits run `time_scale` times faster, like every timer of a sandbox.

A failing endpoint is not hammered: after a retryable failure the account's endpoint URL is held
shut; one event keeps probing it on its own backoff schedule while the other events of that account
for that URL wait without making requests, and all of them go as soon as the probe gets an answer
(delivered or a permanent refusal). So thousands of legs pointing at a dead endpoint cost one request
per backoff step, not thousands. The gate is per account and URL: another account, or another path
on the same host, is never held by it.

At start every pending event in the store is claimed, so a crash (even SIGKILL) loses nothing: events
whose delivery was under way are sent again, with the same event_sid. A graceful stop starts no attempt
more, lets the attempts under way get their answer (bounded by `grace`) and records them, so an event the
endpoint took is not sent again; the rest stay pending for the next start.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from legato.domain.clock import Clock
from legato.events.outbox import Outbox
from legato.events.signature import sign_event
from legato.events.sinks import Result, Sink

log = logging.getLogger(__name__)
SecretLookup = Callable[[str], Awaitable[str]]
_SECRET_TTL = 60.0


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """When to try again, and when to stop (seconds of clock time)."""

    base: float = 1.0
    cap: float = 3600.0
    give_up_after: float = 86_400.0

    def delay(self, failures: int, retry_after: float | None = None, jitter: float | None = None) -> float:
        """The wait after the `failures`-th failed attempt: exponential, jittered, capped, >= Retry-After."""
        exponent = min(failures - 1, 60)
        nominal = min(self.cap, self.base * 2.0 ** exponent)
        wait = nominal * (0.5 + 0.5 * (random.random() if jitter is None else jitter))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.give_up_after))
        return wait


@dataclass(slots=True)
class _Item:
    event_sid: str
    subject_sid: str  # the leg's, bridge's or conference's sid: one queue each
    account_sid: str
    sequence: int
    endpoint: str
    payload: dict[str, Any]
    since: datetime  # the give-up clock starts here
    attempts: int = 0


@dataclass(slots=True)
class _Queue:
    items: list[_Item] = field(default_factory=list)  # sorted by sequence
    sids: set[str] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Gate:
    """An endpoint that failed: until it answers again, only `prober` sends to it."""

    prober: str  # event_sid of the probing event
    answered: asyncio.Event = field(default_factory=asyncio.Event)


class Dispatcher:
    """Delivers every pending event to its endpoint; one task per subject with work."""

    def __init__(self, outbox: Outbox, sinks: dict[str, Sink], secret: SecretLookup, clock: Clock, *,
                 schedule: RetrySchedule | None = None, time_scale: float = 1.0,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.outbox = outbox
        self.sinks = sinks
        self.schedule = schedule or RetrySchedule()
        self.clock = clock
        self.time_scale = time_scale
        self._secret_lookup = secret
        self._secrets: dict[str, tuple[float, str]] = {}
        self._wall = wall
        self._queues: dict[str, _Queue] = {}
        self._gates: dict[tuple[str, str], _Gate] = {}  # by (account_sid, endpoint URL)
        self._attempting: set[asyncio.Task[Any]] = set()  # queue tasks waiting for an endpoint's answer
        self._running = False
        self._stopping = False

    # ---- intake ------------------------------------------------------------------------
    def on_commit(self, rows: list[dict[str, Any]]) -> None:
        """Writer listener: take the events just made durable (rows without an endpoint stay undeliverable)."""
        for row in rows:
            if row["status"] == "pending" and row["endpoint"]:
                self._enqueue(_item(row))

    async def start(self) -> int:
        """Claim every pending event in the store and start delivering; returns how many were claimed."""
        for sink in self.sinks.values():
            prepare = getattr(sink, "prepare", None)
            if prepare is not None:
                prepare()
        rows = await self.outbox.claim_pending()
        for row in rows:
            self._enqueue(_item(row))
        await self.outbox.start()
        self._running = True
        for sid, queue in self._queues.items():
            if queue.task is None and queue.items:
                queue.task = asyncio.create_task(self._run_queue(sid, queue), name=f"events-{sid}")
        if rows:
            log.info("claimed pending events count=%d", len(rows))
        return len(rows)

    async def stop(self, grace: float = 0.0) -> None:
        """Stop sending, then stop the recorder once every attempt and status it was given is written.

        No attempt starts any more; one under way gets up to `grace` seconds for its answer, which is recorded
        (the sink's own attempt timeout bounds it), and is cancelled after that (its event goes again at the
        next start, with the same event_sid). Undelivered events stay pending in the store for the next start."""
        self._running, self._stopping = False, True
        tasks = [q.task for q in self._queues.values() if q.task is not None]
        under_way = [task for task in tasks if task in self._attempting]
        for task in tasks:
            if task not in self._attempting:
                task.cancel()
        if under_way and grace > 0:
            await asyncio.wait(under_way, timeout=grace)
        for task in under_way:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.outbox.stop()
        for sink in {id(s): s for s in self.sinks.values()}.values():
            await sink.aclose()

    async def redeliver(self, row: dict[str, Any]) -> None:
        """Send an outbox event again (whatever its status); returns once it is durably pending again."""
        item = _item(row)
        item.since = self.clock.now()
        queue = self._queues.get(item.subject_sid)
        if queue is not None and item.event_sid in queue.sids:
            return  # already on its way
        future = self.outbox.record(None, item.event_sid, status="pending", attempts=item.attempts,
                                    next_attempt_at=item.since, delivered_at=row["delivered_at"], durable=True)
        assert future is not None
        await future
        self._enqueue(item)

    def _enqueue(self, item: _Item) -> None:
        queue = self._queues.get(item.subject_sid)
        if queue is None:
            queue = self._queues[item.subject_sid] = _Queue()
        if item.event_sid in queue.sids:
            return
        queue.sids.add(item.event_sid)
        # Insert by sequence, but never ahead of the head that is being delivered right now.
        index = bisect.bisect_right([i.sequence for i in queue.items], item.sequence)
        queue.items.insert(max(index, 1 if queue.task is not None and queue.items else 0), item)
        if self._running and queue.task is None:
            queue.task = asyncio.create_task(self._run_queue(item.subject_sid, queue),
                                             name=f"events-{item.subject_sid}")

    # ---- delivery ----------------------------------------------------------------------
    async def _run_queue(self, sid: str, queue: _Queue) -> None:
        try:
            while queue.items and self._running:
                item = queue.items[0]
                try:
                    settled = await self._deliver(item)
                except Exception:  # not expected: keep the event and try again after a pause
                    log.exception("event delivery failed unexpectedly leg_sid=%s event_sid=%s", sid,
                                  item.event_sid)
                    await asyncio.sleep(self.schedule.base / self.time_scale)
                    continue
                if not settled:  # stopping: it stays pending in the store
                    break
                queue.items.remove(item)
                queue.sids.discard(item.event_sid)
        finally:
            queue.task = None
            if not queue.items and self._queues.get(sid) is queue:
                del self._queues[sid]

    async def _deliver(self, item: _Item) -> bool:
        """Attempt until delivered, failed for good, or given up (True), or the dispatcher stops (False); every
        attempt is recorded."""
        address = (item.account_sid, item.endpoint)
        try:
            return await self._attempt_until_done(item, address)
        finally:
            gate = self._gates.get(address)
            if gate is not None and gate.prober == item.event_sid:  # let the waiting events go
                del self._gates[address]
                gate.answered.set()

    async def _wait_for_gate(self, item: _Item, gate: _Gate) -> bool:
        """Wait for a failing endpoint's probe to get an answer; False when the event's time ran out."""
        remaining = (item.since + timedelta(seconds=self.schedule.give_up_after) - self.clock.now()).total_seconds()
        if remaining <= 0:
            return False
        try:
            await asyncio.wait_for(gate.answered.wait(), remaining / self.time_scale)
        except TimeoutError:
            return False
        return True

    async def _attempt_until_done(self, item: _Item, address: tuple[str, str]) -> bool:
        while True:
            gate = self._gates.get(address)
            if gate is not None and gate.prober != item.event_sid and not await self._wait_for_gate(item, gate):
                error = f"gave up after {item.attempts} attempts: the endpoint kept failing"
                self.outbox.record(None, item.event_sid, status="failed", attempts=item.attempts,
                                   next_attempt_at=None, delivered_at=None)
                log.warning("event not delivered leg_sid=%s account_sid=%s event_sid=%s error=%s",
                            item.subject_sid, item.account_sid, item.event_sid, error)
                return True
            if gate is not None and gate.prober != item.event_sid:
                continue  # the endpoint answered the probe: try now
            at = self.clock.now()
            started = time.perf_counter()
            result = await self._attempt_under_way(item)
            latency_ms = round((time.perf_counter() - started) * 1000)
            item.attempts += 1
            now = self.clock.now()
            outcome, error, next_at, wait = result.outcome, result.error, None, 0.0
            if outcome == "retry":
                deadline = item.since + timedelta(seconds=self.schedule.give_up_after)
                if now >= deadline:
                    outcome = "failed"
                    error = f"gave up after {item.attempts} attempts: {error}"
                else:
                    wait = self.schedule.delay(item.attempts, result.retry_after)
                    next_at = min(now + timedelta(seconds=wait), deadline)
                    wait = (next_at - now).total_seconds()
            attempt = {"event_sid": item.event_sid, "subject_sid": item.subject_sid, "attempt": item.attempts,
                       "attempted_at": at, "endpoint": item.endpoint, "outcome": outcome,
                       "status_code": result.status_code, "status": result.status, "latency_ms": latency_ms,
                       "error": error}
            if result.outcome == "retry":
                self._gates.setdefault(address, _Gate(item.event_sid))
            else:  # the endpoint answered: whoever waits on it may go
                gate = self._gates.pop(address, None)
                if gate is not None:
                    gate.answered.set()
            status = {"delivered": "delivered", "failed": "failed", "retry": "pending"}[outcome]
            self.outbox.record(attempt, item.event_sid, status=status, attempts=item.attempts,
                               next_attempt_at=next_at, delivered_at=now if outcome == "delivered" else None)
            if outcome != "retry":
                if outcome == "failed":
                    log.warning("event not delivered leg_sid=%s account_sid=%s event_sid=%s error=%s",
                                item.subject_sid, item.account_sid, item.event_sid, error)
                return True
            if not self._running:
                return False
            await asyncio.sleep(max(0.0, wait) / self.time_scale)

    async def _attempt_under_way(self, item: _Item) -> Result:
        """`_attempt`, its task known as under way meanwhile (a stop lets it finish, within its grace)."""
        task = asyncio.current_task()
        assert task is not None
        self._attempting.add(task)
        try:
            return await self._attempt(item)
        finally:
            self._attempting.discard(task)

    async def _attempt(self, item: _Item) -> Result:
        sink = self.sinks.get(urlsplit(item.endpoint).scheme)
        if sink is None:
            return Result("failed", error=f"no sink for endpoint scheme of {item.endpoint}")
        try:
            secret = await self._secret(item.account_sid)
        except Exception as exc:
            return Result("failed", error=f"no signing secret for account: {exc}")
        signed = sign_event(item.event_sid, item.payload, secret, self._wall(), item.endpoint)
        try:
            return await sink.deliver(item.endpoint, signed, item.payload)
        except Exception:  # the sink's own bug: retrying would hold the endpoint shut for a day
            log.exception("event sink failed leg_sid=%s event_sid=%s", item.subject_sid, item.event_sid)
            return Result("failed", error="internal error in the event sink (logged)")

    @property
    def stopping(self) -> bool:
        """True once `stop` began: no attempt starts any more."""
        return self._stopping

    @property
    def held_shut(self) -> int:
        """Endpoints that failed and are only probed until they answer."""
        return len(self._gates)

    @property
    def backlog(self) -> int:
        """Subjects (legs, bridges, conferences) with events waiting to be delivered (0: everything committed so far
        went out or gave up)."""
        return len(self._queues)

    def forget_secret(self, account_sid: str) -> None:
        """The account's webhook secret was rotated: sign its next attempts with the new one."""
        self._secrets.pop(account_sid, None)

    async def _secret(self, account_sid: str) -> str:
        cached = self._secrets.get(account_sid)
        now = time.monotonic()
        if cached is not None and now - cached[0] < _SECRET_TTL:
            return cached[1]
        secret = await self._secret_lookup(account_sid)
        self._secrets[account_sid] = (now, secret)
        return secret


def _item(row: dict[str, Any]) -> _Item:
    return _Item(event_sid=row["event_sid"], subject_sid=row["subject_sid"], account_sid=row["account_sid"],
                 sequence=row["sequence"], endpoint=row["endpoint"], payload=row["payload"],
                 since=row["timestamp"], attempts=row.get("attempts") or 0)
