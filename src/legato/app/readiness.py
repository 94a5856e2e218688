"""Readiness: named checks that say whether this node should be sent work now (`GET /readyz`).

A check is a callable (plain or async) returning None when ready, or a short reason when not. Anyone may add
one (`runtime.readiness.add("media", check)`); the report runs them all, each bounded in time.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Check = Callable[[], "Awaitable[str | None] | str | None"]
CHECK_TIMEOUT = 2.0  # seconds; a check that takes longer counts as not ready


class Readiness:
    """The checks of one node, in the order added."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def report(self) -> tuple[bool, dict[str, str]]:
        """(ready, {check name: "ok" or the reason it is not})."""
        results = await asyncio.gather(*(self._run(check) for check in self.checks.values()))
        report = {name: problem or "ok" for name, problem in zip(self.checks, results, strict=True)}
        return all(problem is None for problem in results), report

    @staticmethod
    async def _run(check: Check) -> str | None:
        try:
            outcome = check()
            if inspect.isawaitable(outcome):
                return await asyncio.wait_for(outcome, CHECK_TIMEOUT)
            return outcome
        except TimeoutError:
            return f"no answer within {CHECK_TIMEOUT:g} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"[:200]
