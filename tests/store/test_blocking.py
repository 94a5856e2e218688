"""The writer's blocking thread: jobs in order; `stop` is final, a job given after it is refused (it never hangs
and never reopens anything)."""

from __future__ import annotations

import threading

import pytest

from legato.store.blocking import BlockingThread, Stopped


async def test_jobs_run_in_order_on_one_thread_and_errors_reach_the_awaiter() -> None:
    thread = BlockingThread("test-blocking")
    seen: list[tuple[int, str]] = []
    futures = [thread.run(lambda n: seen.append((n, threading.current_thread().name)), n) for n in range(50)]
    for future in futures:
        await future
    assert [n for n, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"test-blocking"}

    def fail() -> None:
        raise ValueError("refused")

    try:
        await thread.run(fail)
    except ValueError as exc:
        assert str(exc) == "refused"
    else:
        raise AssertionError("the job's error did not reach its awaiter")
    thread.stop()


async def test_a_job_given_after_stop_is_refused_and_the_jobs_before_it_run() -> None:
    thread = BlockingThread("test-blocking")
    assert await thread.run(lambda: 1) == 1
    ran: list[int] = []
    before = thread.run(ran.append, 2)  # given before the stop: runs
    thread.stop()
    await before
    assert ran == [2]
    with pytest.raises(Stopped, match="test-blocking has stopped"):
        thread.run(ran.append, 3)
    thread.stop()  # again: nothing more
    with pytest.raises(Stopped):
        thread.run(ran.append, 4)
    assert ran == [2]


async def test_a_thread_stopped_before_any_job_refuses_them_all() -> None:
    thread = BlockingThread("test-blocking-unused")
    thread.stop()
    with pytest.raises(Stopped):
        thread.run(lambda: 1)
    assert not any(t.name == "test-blocking-unused" for t in threading.enumerate())
