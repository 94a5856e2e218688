"""Bounded waits. In process: `heard` awaits the event a producer sets on each change (and a `ManualClock`
moves time). Across processes (a server, a phone, the media engine): `wait_for` and `until` poll a real
condition until it holds."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


Said = str | Callable[[], str]
"""What is awaited, for the failure message: a text, or a function making it when the wait fails."""


def _verdict(value: Any, done: Callable[[Any], bool] | None) -> bool:
    return bool(value) if done is None else done(value)


def _timed_out(what: Said, seconds: float, value: Any) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"{said} not reached in {seconds} s; last: {value!r}")


def wait_for(read: Callable[[], T], done: Callable[[T], bool] | None = None, *, seconds: float = 20,
             what: Said | None = "the condition", every: float = 0.05) -> T:
    """`read()` again every `every` s until `done(value)` (or the value is truthy); returns that value.
    After `seconds`: raise AssertionError saying `what` and the last value, or, with `what=None`, return
    the last value for the caller's own assertion to tell what is wrong."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if _verdict(value, done):
            return value
        if time.monotonic() > deadline:
            if what is None:
                return value
            raise _timed_out(what, seconds, value)
        time.sleep(every)


async def until(read: Callable[[], T | Awaitable[T]], done: Callable[[T], bool] | None = None, *,
                seconds: float = 20, what: Said = "the condition", every: float = 0.02) -> T:
    """`wait_for` on the running loop: `read` may be a coroutine function; raises AssertionError on time out."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if inspect.isawaitable(value):
            value = await value
        if _verdict(value, done):
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise _timed_out(what, seconds, value)
        await asyncio.sleep(every)


async def heard(changed: asyncio.Event, check: Callable[[], T], *, seconds: float = 10,
                what: Said = "the condition") -> T:
    """Await `changed` (which the producer sets on every change) until `check()` is truthy; return it."""
    async def changes() -> T:
        while not (value := check()):
            changed.clear()
            await changed.wait()
        return value

    try:
        return await asyncio.wait_for(changes(), seconds)
    except TimeoutError:
        raise _timed_out(what, seconds, check()) from None
