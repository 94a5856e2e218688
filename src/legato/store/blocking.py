"""One thread that runs blocking jobs in order, each awaited from the event loop (the SQLite writer's thread).

`loop.run_in_executor` on a one-thread `ThreadPoolExecutor` does the same with more machinery per job: a
lock and an idle-semaphore probe in `submit`, a `concurrent.futures.Future` chained to an asyncio one with
callbacks on both sides. The writer hands its thread a job per commit (at a moderate rate, one or two a
leg), so each job here is a tuple on a `SimpleQueue` and its outcome one `call_soon_threadsafe`.

`stop` is final: the jobs given before it run, a job given after it is refused with `Stopped` (the writer's
last job closes its `sqlite3` connection, so nothing may write after it; app/runtime.py stops every component
that writes through the writer before the writer).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Job = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]


class Stopped(RuntimeError):
    """Work given to a runner (the writer, its thread, the outbox's recorder) after it stopped: it is refused."""


class BlockingThread:
    """A daemon thread (started by the first job) running `run`'s jobs one after another, until `stop`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._stopped = False

    def run(self, function: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`function(*args)` on the thread, after the jobs before it; the future gives its result or exception.
        Raises Stopped once `stop` was called."""
        if self._stopped:
            raise Stopped(f"thread {self._name} has stopped: a job given after its stop is refused")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, function, args))
        if self._thread.ident is None:
            self._thread.start()
        return future

    def stop(self) -> None:
        """End the thread once the jobs already given have run; a later job is refused (Stopped)."""
        if not self._stopped:
            self._stopped = True
            self._jobs.put(None)

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, function, args = job
            try:
                outcome, failed = function(*args), False
            except BaseException as exc:  # handed to the awaiting coroutine
                outcome, failed = exc, True
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, failed)
            except RuntimeError:  # the loop is closed: nobody awaits it any more
                pass


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.cancelled():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
