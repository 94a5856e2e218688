"""Benchmark of the CPS throttle: legs/s through it with many enqueued legs, and rate deviation.

    PYTHONPATH=src python bench/throttle.py                       # virtual clock: pure scheduler cost
    PYTHONPATH=src python bench/throttle.py --mode asyncio --time-scale 20   # real loop, ScaledClock

`virtual` runs on a heap clock that jumps to the next timer, so wall time is the scheduler's own
cost (admit + every start). `asyncio` runs on a real event loop with the engine's ScaledClock and
real timers, so lateness of the loop shows up as under-delivery (it can never show as excess).
Deviation per account: `over` = the most starts in any one-second window of clock time divided by
cps, minus one (must be <= 0: never above the rate); `under` = achieved rate over the drain
divided by cps, minus one.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from legato.engine.clock import ScaledClock
from legato.engine.throttle import Limits, Throttle


class HeapClock:
    """A virtual clock: `run` fires timers in order, jumping time forward to each."""

    def __init__(self) -> None:
        self._now = datetime(2026, 1, 1, tzinfo=UTC)
        self._heap: list[tuple[datetime, int, list[object]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> _Handle:
        handle = _Handle(callback)
        heapq.heappush(self._heap, (self._now + timedelta(seconds=seconds), next(self._seq), [handle]))
        return handle

    def run(self) -> None:
        while self._heap:
            due, _, (handle,) = heapq.heappop(self._heap)
            self._now = max(self._now, due)
            if not handle.cancelled:  # type: ignore[attr-defined]
                handle.callback()  # type: ignore[attr-defined]


class _Handle:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def deviations(starts: dict[str, list[datetime]], cps: dict[str, int]) -> tuple[float, float, int]:
    """(worst over-rate, worst under-rate, accounts measured) across accounts."""
    worst_over, worst_under, measured = -1.0, 0.0, 0
    for account, times in starts.items():
        times.sort()
        rate = cps[account]
        most, j = 0, 0
        for i, t in enumerate(times):  # most starts in a half-open one-second window
            while times[j] <= t - timedelta(seconds=1):
                j += 1
            most = max(most, i - j + 1)
        worst_over = max(worst_over, most / rate - 1)
        if len(times) > 1:
            span = (times[-1] - times[0]).total_seconds()
            worst_under = min(worst_under, (len(times) - 1) / span / rate - 1)
            measured += 1
    return worst_over, worst_under, measured


def plan(accounts: int, legs: int, seed: int) -> tuple[dict[str, int], list[tuple[str, str, str]], set[str]]:
    rng = random.Random(seed)
    cps = {f"AC{i:04d}": rng.choice([1, 2, 5, 10, 20]) for i in range(accounts)}
    names = list(cps)
    work = [(f"L{n:06d}", names[n % accounts], "high" if rng.random() < 0.2 else "normal") for n in range(legs)]
    cancelled = {sid for sid, _, _ in work if rng.random() < 0.05}
    return cps, work, cancelled


def run_virtual(accounts: int, legs: int, seed: int) -> dict[str, float]:
    cps, work, cancelled = plan(accounts, legs, seed)
    clock = HeapClock()
    starts: dict[str, list[datetime]] = {a: [] for a in cps}
    owner = {sid: account for sid, account, _ in work}
    throttle = Throttle(clock, lambda sid, at: starts[owner[sid]].append(at), max_queue=legs,
                        max_queue_total=legs)
    began = time.perf_counter()
    for sid, account, priority in work:
        if throttle.admit(sid, account, Limits(cps=cps[account]), priority=priority):
            starts[account].append(clock.now())
    admitted = time.perf_counter()
    waiting = throttle.waiting
    for sid in cancelled:
        throttle.forget(sid)
    clock.run()
    done = time.perf_counter()
    started = sum(len(v) for v in starts.values())
    over, under, _ = deviations(starts, cps)
    virtual = max(max(v) for v in starts.values() if v) - datetime(2026, 1, 1, tzinfo=UTC)
    return {"legs": legs, "enqueued": waiting, "started": started, "admit_s": admitted - began,
            "total_s": done - began, "legs_per_s": started / (done - began), "over": over, "under": under,
            "clock_s": virtual.total_seconds()}


def lateness(admits: dict[str, list[datetime]], starts: dict[str, list[datetime]], cps: dict[str, int]
             ) -> tuple[float, float]:
    """(worst, mean) delay in clock seconds of each start behind the ideal schedule of a perfect bucket
    (s_k = max(a_k, s_k-1 + 1/cps) over the legs' admission times a_k; the k-th start is compared to s_k)."""
    delays: list[float] = []
    for account, arrived in admits.items():
        spacing = timedelta(seconds=1 / cps[account])
        ideal: list[datetime] = []
        for moment in sorted(arrived):
            ideal.append(moment if not ideal else max(moment, ideal[-1] + spacing))
        delays += [(actual - want).total_seconds() for actual, want in zip(sorted(starts[account]), ideal,
                                                                           strict=False)]
    return max(delays, default=0.0), sum(delays) / max(1, len(delays))


async def run_asyncio(accounts: int, legs: int, seed: int, scale: float) -> dict[str, float]:
    cps, work, cancelled = plan(accounts, legs, seed)
    clock = ScaledClock(scale)
    starts: dict[str, list[datetime]] = {a: [] for a in cps}
    admits: dict[str, list[datetime]] = {a: [] for a in cps}
    owner = {sid: account for sid, account, _ in work}
    finished = asyncio.Event()
    expected = legs - len(cancelled)

    def start(sid: str, at: datetime) -> None:
        starts[owner[sid]].append(at)
        if sum(map(len, starts.values())) >= expected:
            finished.set()

    throttle = Throttle(clock, start, max_queue=legs, max_queue_total=legs)
    began = time.perf_counter()
    immediate = 0
    for sid, account, priority in work:
        now = clock.now()
        if throttle.admit(sid, account, Limits(cps=cps[account]), priority=priority):
            starts[account].append(now)
            immediate += 1
            cancelled.discard(sid)
        if sid not in cancelled:
            admits[account].append(now)
    expected = legs - len(cancelled)
    for sid in cancelled:
        throttle.forget(sid)
    waiting = legs - immediate - len(cancelled)
    await asyncio.wait_for(finished.wait(), timeout=600)
    done = time.perf_counter()
    throttle.close()
    over, _, _ = deviations(starts, cps)
    worst, mean = lateness(admits, starts, cps)
    return {"legs": legs, "enqueued": waiting, "started": sum(map(len, starts.values())), "total_s": done - began,
            "legs_per_s": expected / (done - began), "over": over, "worst_late_clock_s": worst,
            "mean_late_clock_s": mean, "clock_s": (done - began) * scale}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["virtual", "asyncio"], default="virtual")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--legs", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.mode == "virtual":
        result = run_virtual(args.accounts, args.legs, args.seed)
    else:
        result = asyncio.run(run_asyncio(args.accounts, args.legs, args.seed, args.time_scale))
    print(f"mode={args.mode} accounts={args.accounts} python={platform.python_version()} "
          f"machine={platform.machine()}")
    for key, value in result.items():
        print(f"  {key:>20}: {value:.4f}" if isinstance(value, float) else f"  {key:>20}: {value}")


if __name__ == "__main__":
    main()
