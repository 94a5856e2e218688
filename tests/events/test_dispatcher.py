"""The retry schedule and the classification of responses (pure parts of the dispatcher and sinks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from legato.events.dispatcher import RetrySchedule
from legato.events.sinks.http import classify, parse_retry_after


def test_default_schedule_doubles_caps_and_gives_up_after_a_day() -> None:
    schedule = RetrySchedule()
    nominal = [schedule.delay(n, jitter=1.0) for n in range(1, 16)]
    assert nominal[:5] == [1, 2, 4, 8, 16]
    assert max(nominal) == 3600
    assert schedule.give_up_after == 24 * 3600
    assert schedule.delay(3, jitter=0.0) == 2  # jitter keeps 50-100 % of the nominal wait
    waits, total = [], 0.0
    while total < schedule.give_up_after:
        waits.append(schedule.delay(len(waits) + 1, jitter=1.0))
        total += waits[-1]
    assert 30 <= len(waits) + 1 <= 40  # about 35 attempts in 24 h


def test_retry_after_is_honoured() -> None:
    schedule = RetrySchedule()
    assert schedule.delay(1, retry_after=120, jitter=0.0) == 120
    assert schedule.delay(10, retry_after=1, jitter=1.0) == 512


@pytest.mark.parametrize(("code", "outcome"), [
    (200, "delivered"), (204, "delivered"), (301, "failed"), (400, "failed"), (401, "failed"), (404, "failed"),
    (408, "retry"), (410, "failed"), (429, "retry"), (500, "retry"), (502, "retry"), (503, "retry")])
def test_http_status_classification(code: int, outcome: str) -> None:
    assert classify(code) == outcome


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after(later, now) == 30.0
