"""The writer's blocking thread: jobs in order, and a job given after `stop` still runs (it never hangs)."""

from __future__ import annotations

import threading

from legato.store.blocking import BlockingThread


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


async def test_a_job_given_after_stop_still_runs() -> None:
    thread = BlockingThread("test-blocking")
    assert await thread.run(lambda: 1) == 1
    thread.stop()
    assert await thread.run(lambda: 2) == 2  # e.g. a last attempt record flushed after the writer stopped
    thread.stop()
    thread.stop()
    assert await thread.run(lambda: 3) == 3
    thread.stop()
