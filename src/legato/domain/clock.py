"""Injected time: the Clock interface and a manual clock for tests. No I/O: the clock that runs
on asyncio lives in engine/clock.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """Now, and callbacks later, in the clock's own time."""

    def now(self) -> datetime: ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle: ...


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: datetime, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to (`advance`), for tests of timers."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._timers: list[_ManualTimer] = []

    def now(self) -> datetime:
        return self._now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer(self._now + timedelta(seconds=seconds), callback)
        self._timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order."""
        end = self._now + timedelta(seconds=seconds)
        while True:
            due = sorted((t for t in self._timers if not t.cancelled and t.due <= end), key=lambda t: t.due)
            if not due:
                break
            timer = due[0]
            self._timers.remove(timer)
            self._now = max(self._now, timer.due)
            timer.callback()
        self._now = end
