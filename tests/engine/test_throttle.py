"""The CPS throttle on a manual clock: rate, priority, concurrency, trunk limits, bounds."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

import pytest

from legato.domain.clock import ManualClock
from legato.domain.errors import LimitExceeded
from legato.engine.throttle import Limits, Throttle, interval


class Recorder:
    def __init__(self) -> None:
        self.started: list[tuple[str, datetime]] = []

    def __call__(self, leg_sid: str, at: datetime) -> None:
        self.started.append((leg_sid, at))

    @property
    def order(self) -> list[str]:
        return [sid for sid, _ in self.started]


def make(**kwargs: int) -> tuple[ManualClock, Throttle, Recorder]:
    clock = ManualClock()
    recorder = Recorder()
    return clock, Throttle(clock, recorder, **kwargs), recorder


def test_unlimited_account_always_starts_at_once() -> None:
    _, throttle, started = make()
    assert all(throttle.admit(f"L{i}", "A", Limits()) for i in range(100))
    assert throttle.depth("A") == 0 and started.started == []


def test_starts_are_spaced_by_the_rate_without_bursts() -> None:
    clock, throttle, started = make()
    t0 = clock.now()
    assert throttle.admit("L0", "A", Limits(cps=2))
    assert not any(throttle.admit(f"L{i}", "A", Limits(cps=2)) for i in range(1, 6))
    assert throttle.depth("A") == 5
    clock.advance(10)
    assert started.order == ["L1", "L2", "L3", "L4", "L5"]
    assert [at - t0 for _, at in started.started] == [timedelta(seconds=0.5 * i) for i in range(1, 6)]
    assert throttle.depth("A") == 0


def test_idle_bucket_does_not_store_a_burst() -> None:
    clock, throttle, started = make()
    clock.advance(100)
    assert throttle.admit("L0", "A", Limits(cps=5))
    assert not throttle.admit("L1", "A", Limits(cps=5))  # depth-one bucket: the second waits 0.2 s
    clock.advance(0.19)
    assert started.order == []
    clock.advance(0.01)
    assert started.order == ["L1"]


def test_high_priority_first_then_fifo() -> None:
    clock, throttle, started = make()
    limits = Limits(cps=1)
    throttle.admit("first", "A", limits)
    for sid, priority in [("n1", "normal"), ("n2", "normal"), ("h1", "high"), ("n3", "normal"), ("h2", "high")]:
        assert not throttle.admit(sid, "A", limits, priority=priority)
    clock.advance(2.5)
    throttle.admit("h3", "A", limits, priority="high")
    clock.advance(10)
    assert started.order == ["h1", "h2", "h3", "n1", "n2", "n3"]


def test_max_concurrent_waits_for_a_leg_to_end() -> None:
    clock, throttle, started = make()
    limits = Limits(max_concurrent=2)
    assert throttle.admit("a", "A", limits) and throttle.admit("b", "A", limits)
    assert not throttle.admit("c", "A", limits)
    clock.advance(60)
    assert started.order == []
    throttle.forget("a")
    clock.advance(0)
    assert started.order == ["c"]
    assert throttle.active("A") == 2


def test_forgetting_a_waiting_leg_removes_it_from_the_queue() -> None:
    clock, throttle, started = make()
    limits = Limits(cps=1)
    throttle.admit("a", "A", limits)
    throttle.admit("b", "A", limits)
    throttle.admit("c", "A", limits)
    throttle.forget("b")
    assert throttle.depth("A") == 1
    clock.advance(5)
    assert started.order == ["c"]
    assert started.started[0][1] - clock.now() == timedelta(seconds=-4)  # c took b's slot at t=1


def test_queue_length_bound_names_the_limit() -> None:
    _, throttle, _ = make(max_queue=2)
    limits = Limits(cps=1)
    throttle.admit("a", "A", limits)
    throttle.admit("b", "A", limits)
    throttle.admit("c", "A", limits)
    with pytest.raises(LimitExceeded) as raised:
        throttle.admit("d", "A", limits)
    assert raised.value.field == "queue_max_length" and raised.value.retry_after >= 1
    assert throttle.depth("A") == 2
    assert throttle.admit("x", "B", limits)  # other accounts are not affected


def test_node_queue_bound() -> None:
    _, throttle, _ = make(max_queue_total=1)
    throttle.admit("a", "A", Limits(cps=1))
    throttle.admit("b", "A", Limits(cps=1))
    throttle.admit("c", "B", Limits(cps=1))
    with pytest.raises(LimitExceeded) as raised:
        throttle.admit("d", "B", Limits(cps=1))
    assert raised.value.field == "queue_max_total"


def test_trunk_limit_is_a_second_bucket() -> None:
    clock, throttle, started = make()
    t0 = clock.now()
    limits = Limits(cps=10, trunk_cps=1)
    for i in range(4):
        throttle.admit(f"L{i}", "A", limits, trunk="carrier")
    clock.advance(10)
    assert [at - t0 for _, at in started.started] == [timedelta(seconds=s) for s in (1, 2, 3)]


def test_accounts_are_independent() -> None:
    clock, throttle, started = make()
    for account in ("A", "B", "C"):
        for i in range(3):
            throttle.admit(f"{account}{i}", account, Limits(cps=1))
    clock.advance(1)
    assert sorted(started.order) == ["A1", "B1", "C1"]


def test_interval_rounds_up_so_the_rate_is_never_exceeded() -> None:
    assert interval(3) == timedelta(microseconds=333_334)
    assert interval(3) * 3 >= timedelta(seconds=1)


@pytest.mark.parametrize("seed", range(5))
def test_random_load_keeps_rate_priority_and_fifo(seed: int) -> None:
    rng = random.Random(seed)
    clock, throttle, started = make()
    cps = {f"A{i}": rng.randint(1, 20) for i in range(6)}
    created: dict[str, tuple[str, str, datetime, int]] = {}
    for n in range(400):
        account = rng.choice(list(cps))
        priority = rng.choice(["high", "normal", "normal"])
        sid = f"L{n:04d}"
        created[sid] = (account, priority, clock.now(), n)
        if throttle.admit(sid, account, Limits(cps=cps[account]), priority=priority):
            started(sid, clock.now())
        if rng.random() < 0.05:
            throttle.forget(rng.choice(list(created)))
        clock.advance(rng.random() * 0.05)
    clock.advance(1000)
    by_account: dict[str, list[tuple[str, datetime]]] = {}
    for sid, at in started.started:
        by_account.setdefault(created[sid][0], []).append((sid, at))
    for account, starts in by_account.items():
        times = sorted(at for _, at in starts)
        spacing = interval(cps[account])
        assert all(b - a >= spacing for a, b in itertools.pairwise(times)), account
        for i, (sid, at) in enumerate(starts):  # nothing started before a waiting leg it should follow
            _, priority, _, n = created[sid]
            for other, other_at in starts[i + 1:]:
                _, other_priority, other_created, m = created[other]
                if other_created < at and other_at > at:
                    assert not (other_priority == "high" and priority == "normal"), (sid, other)
                    if other_priority == priority:
                        assert m > n, (sid, other)


def test_inbound_legs_hold_concurrent_slots_but_take_no_cps_token() -> None:
    clock, throttle, started = make()
    limits = Limits(cps=1, max_concurrent=2)
    throttle.occupy("IN1", "A")
    throttle.occupy("IN2", "A")  # inbound legs are never refused: the account is now at its cap
    assert not throttle.admit("L1", "A", limits)
    clock.advance(5)
    assert started.order == [] and throttle.active("A") == 0  # inbound legs are not admitted legs
    throttle.forget("IN1")
    clock.advance(0)
    assert started.order == ["L1"]  # at once: the inbound legs took no cps token
    assert throttle.inbound() == {"A": 1}


def test_inbound_legs_on_other_nodes_hold_slots_on_the_home_node() -> None:
    clock, throttle, started = make()
    limits = Limits(max_concurrent=2)
    throttle.set_elsewhere({"A": 2, "B": 5})
    assert not throttle.admit("L1", "A", limits)
    assert throttle.admit("M1", "B", Limits(max_concurrent=6))  # 5 elsewhere + 1
    throttle.set_elsewhere({"A": 2, "B": 5})
    assert started.order == []
    throttle.set_elsewhere({"B": 5})  # node gone or its inbound legs ended
    clock.advance(0)
    assert started.order == ["L1"]
    assert throttle.inbound() == {}
