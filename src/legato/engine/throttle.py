"""Calls-per-second throughput control: token buckets, concurrency caps and a priority queue of legs.

Every outbound leg asks `Throttle.admit` before it dials. It starts at once when its account's
queue is empty and every limit allows it; otherwise it waits in the account's queue (`high`
before `normal`, first in first out within a priority) and the throttle starts it later through
the `start` callback, at the clock time the slot opened.

Limits, all optional:
- the account's cps: a token bucket of depth one (GCRA), so starts are at least 1/cps apart:
  smooth, never a burst above the rate, in any window;
- the account's maximum of concurrent live legs: legs this throttle admitted and inbound legs of this node
  (`occupy`) that have not ended, plus, on a cluster's home node, the inbound legs other nodes hold
  (`elsewhere`, as their lease renewals publish them); an inbound leg is never refused or queued for it;
- the operator's cps for the (account, trunk) pair, a second bucket the leg must also pass.

Scheduling is O(log A) per leg for A accounts with waiting legs: each such account sits once in a
heap keyed by the time its head leg may start, and one clock timer is armed for the earliest.
Legs that end while waiting are dropped lazily. Time comes only from the injected clock.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from legato.domain.clock import Clock, TimerHandle
from legato.domain.errors import LimitExceeded

PRIORITIES = ("high", "normal")
StartCallback = Callable[[str, datetime], None]
"""`start(leg_sid, at)`: dial this waiting leg now; `at` is the clock time the slot opened."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one leg must respect (None: unlimited)."""

    cps: int | None = None
    max_concurrent: int | None = None
    trunk_cps: int | None = None

    @property
    def unlimited(self) -> bool:
        return self.cps is None and self.max_concurrent is None and self.trunk_cps is None


def interval(cps: int | None) -> timedelta:
    """The spacing of starts at `cps`, rounded up to the microsecond so it never exceeds the rate."""
    if cps is None:
        return timedelta(0)
    return timedelta(microseconds=math.ceil(1_000_000 / cps))


class _Bucket:
    """A token bucket of depth one, kept as the earliest time the next start may happen (GCRA's TAT)."""

    __slots__ = ("next_at",)

    def __init__(self) -> None:
        self.next_at: datetime | None = None

    def ready(self, now: datetime) -> bool:
        return self.next_at is None or self.next_at <= now

    def take(self, now: datetime, spacing: timedelta) -> None:
        base = self.next_at if self.next_at is not None and self.next_at > now else now
        self.next_at = base + spacing


@dataclass(slots=True)
class _Entry:
    leg_sid: str
    account_sid: str
    trunk: str
    priority: str
    queued: bool
    cancelled: bool = False
    placed: bool = True  # False: an inbound leg (it holds a concurrency slot, it took no cps token)


@dataclass(slots=True)
class _Account:
    account_sid: str
    limits: Limits = field(default_factory=Limits)
    bucket: _Bucket = field(default_factory=_Bucket)
    queues: dict[str, deque[_Entry]] = field(default_factory=lambda: {p: deque() for p in PRIORITIES})
    depth: int = 0  # waiting legs (cancelled ones excluded)
    active: int = 0  # admitted and inbound legs not yet ended
    inbound: int = 0  # of them, inbound legs
    elsewhere: int = 0  # live inbound legs of the account on other nodes (a cluster's home node counts them)
    scheduled_at: datetime | None = None  # when this account is in the heap, its ready time
    scheduled_seq: int = -1


class Throttle:
    """Admits, queues and starts legs within their limits."""

    def __init__(self, clock: Clock, start: StartCallback, *, max_queue: int = 1000,
                 max_queue_total: int = 1_000_000) -> None:
        self.clock = clock
        self.start = start
        self.max_queue = max_queue
        self.max_queue_total = max_queue_total
        self.waiting = 0
        self._accounts: dict[str, _Account] = {}
        self._pairs: dict[tuple[str, str], _Bucket] = {}
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[datetime, int, str]] = []
        self._seq = 0
        self._timer: TimerHandle | None = None
        self._timer_at: datetime | None = None

    # ---- entry points ---------------------------------------------------------------------
    def admit(self, leg_sid: str, account_sid: str, limits: Limits, *, trunk: str = "sandbox",
              priority: str = "normal", now: datetime | None = None) -> bool:
        """True: start the leg now (a slot was taken at `now`, which the caller should stamp the start
        with). False: it waits and `start` will be called.

        Raises LimitExceeded (the account's or the node's queue is full) without taking anything."""
        account = self._account(account_sid)
        account.limits = limits
        now = now or self.clock.now()
        if account.depth == 0 and self._can_start(account, trunk, now):
            self._take(account, trunk, now)
            self._entries[leg_sid] = _Entry(leg_sid, account_sid, trunk, priority, queued=False)
            return True
        if account.depth >= self.max_queue:
            raise LimitExceeded(
                f"the CPS queue of account {account_sid} is full ({account.depth} legs waiting; "
                f"queue_max_length is {self.max_queue})", retry_after=self._retry_after(account),
                field="queue_max_length")
        if self.waiting >= self.max_queue_total:
            raise LimitExceeded(f"the CPS queue of this node is full ({self.waiting} legs waiting; "
                                f"queue_max_total is {self.max_queue_total})",
                                retry_after=self._retry_after(account), field="queue_max_total")
        entry = _Entry(leg_sid, account_sid, trunk, priority if priority in PRIORITIES else "normal", queued=True)
        self._entries[leg_sid] = entry
        account.queues[entry.priority].append(entry)
        account.depth += 1
        self.waiting += 1
        self._schedule(account)
        return False

    def occupy(self, leg_sid: str, account_sid: str) -> None:
        """An inbound leg went live: it holds one of its account's concurrent slots until `forget`."""
        if leg_sid in self._entries:
            return
        account = self._account(account_sid)
        account.active += 1
        account.inbound += 1
        self._entries[leg_sid] = _Entry(leg_sid, account_sid, "", "normal", queued=False, placed=False)

    def inbound_counted(self, account_sid: str) -> int:
        """The account's live inbound legs counted toward its max_concurrent: here and on the other nodes."""
        account = self._accounts.get(account_sid)
        return account.inbound + account.elsewhere if account else 0

    def inbound(self) -> dict[str, int]:
        """Live inbound legs per account (what a cluster node publishes with its lease)."""
        return {sid: a.inbound for sid, a in self._accounts.items() if a.inbound}

    def set_elsewhere(self, counts: dict[str, int]) -> None:
        """The live inbound legs other nodes hold, per account (missing: none); legs that waited for them start
        once they are fewer."""
        for account in self._accounts.values():
            if account.elsewhere and account.account_sid not in counts:
                self._elsewhere(account, 0)
        for account_sid, count in counts.items():
            self._elsewhere(self._account(account_sid), count)

    def _elsewhere(self, account: _Account, count: int) -> None:
        fewer = count < account.elsewhere
        account.elsewhere = count
        if fewer and account.depth and account.limits.max_concurrent is not None:
            self._schedule(account)

    def forget(self, leg_sid: str) -> None:
        """The leg ended (or was never launched): drop it from its queue or free its slot."""
        entry = self._entries.pop(leg_sid, None)
        if entry is None:
            return
        account = self._accounts[entry.account_sid]
        if entry.queued:
            entry.cancelled = True
            account.depth -= 1
            self.waiting -= 1
        else:
            account.active -= 1
            if not entry.placed:
                account.inbound -= 1
            if account.depth and account.limits.max_concurrent is not None:
                self._schedule(account)

    def depth(self, account_sid: str) -> int:
        """Legs of the account waiting for a slot."""
        account = self._accounts.get(account_sid)
        return account.depth if account else 0

    def active(self, account_sid: str) -> int:
        """Legs of the account admitted and not yet ended (inbound legs, counted toward max_concurrent, aside)."""
        account = self._accounts.get(account_sid)
        return account.active - account.inbound if account else 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---- scheduling -----------------------------------------------------------------------
    def _account(self, account_sid: str) -> _Account:
        account = self._accounts.get(account_sid)
        if account is None:
            account = self._accounts[account_sid] = _Account(account_sid)
        return account

    def _pair(self, account_sid: str, trunk: str) -> _Bucket:
        bucket = self._pairs.get((account_sid, trunk))
        if bucket is None:
            bucket = self._pairs[(account_sid, trunk)] = _Bucket()
        return bucket

    def _can_start(self, account: _Account, trunk: str, now: datetime) -> bool:
        limits = account.limits
        if limits.unlimited:
            return True
        if limits.max_concurrent is not None and account.active + account.elsewhere >= limits.max_concurrent:
            return False
        if limits.cps is not None and not account.bucket.ready(now):
            return False
        return limits.trunk_cps is None or self._pair(account.account_sid, trunk).ready(now)

    def _take(self, account: _Account, trunk: str, now: datetime) -> None:
        limits = account.limits
        account.active += 1
        if limits.cps is not None:
            account.bucket.take(now, interval(limits.cps))
        if limits.trunk_cps is not None:
            self._pair(account.account_sid, trunk).take(now, interval(limits.trunk_cps))

    def _head(self, account: _Account) -> _Entry | None:
        for priority in PRIORITIES:
            queue = account.queues[priority]
            while queue and queue[0].cancelled:
                queue.popleft()
            if queue:
                return queue[0]
        return None

    def _ready_at(self, account: _Account, head: _Entry, now: datetime) -> datetime | None:
        """When the head may start, or None while the account is at its concurrency cap."""
        limits = account.limits
        if limits.max_concurrent is not None and account.active + account.elsewhere >= limits.max_concurrent:
            return None
        ready = now
        if limits.cps is not None and account.bucket.next_at is not None:
            ready = max(ready, account.bucket.next_at)
        if limits.trunk_cps is not None:
            pair = self._pair(account.account_sid, head.trunk).next_at
            if pair is not None:
                ready = max(ready, pair)
        return ready

    def _schedule(self, account: _Account) -> None:
        now = self.clock.now()
        head = self._head(account)
        ready = self._ready_at(account, head, now) if head is not None else None
        if ready is None:
            account.scheduled_at = None
            return
        if account.scheduled_at is not None and account.scheduled_at <= ready:
            return  # already in the heap for an earlier (or the same) moment; it will recompute then
        self._seq += 1
        account.scheduled_at, account.scheduled_seq = ready, self._seq
        heapq.heappush(self._heap, (ready, self._seq, account.account_sid))
        self._arm(ready, now)

    def _arm(self, at: datetime, now: datetime) -> None:
        if self._timer is not None and self._timer_at is not None and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.clock.call_later(max(0.0, (at - now).total_seconds()), self._fire)

    def _fire(self) -> None:
        self._timer = self._timer_at = None
        now = self.clock.now()
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, seq, account_sid = heapq.heappop(heap)
            account = self._accounts[account_sid]
            if account.scheduled_seq != seq:
                continue  # stale entry
            account.scheduled_at = None
            self._drain(account, now)
            self._schedule(account)
        if heap:
            self._arm(heap[0][0], now)

    def _drain(self, account: _Account, now: datetime) -> None:
        """Start the account's waiting legs while its limits allow (one per token)."""
        while True:
            head = self._head(account)
            if head is None or not self._can_start(account, head.trunk, now):
                return
            account.queues[head.priority].popleft()
            head.queued = False
            account.depth -= 1
            self.waiting -= 1
            self._take(account, head.trunk, now)
            self.start(head.leg_sid, now)

    def _retry_after(self, account: _Account) -> int:
        """Whole seconds until the queue is likely to have room again (at least 1)."""
        spacing = interval(account.limits.cps or account.limits.trunk_cps).total_seconds()
        return max(1, math.ceil(spacing))
