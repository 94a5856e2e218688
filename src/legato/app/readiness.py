"""Readiness: a list of named checks, each saying why this server should not get traffic now (or None)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

Check = Callable[[], "str | Awaitable[str | None] | None"]


class Readiness:
    """`/readyz` asks every check; the server is ready when none has a problem."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def problems(self) -> dict[str, str]:
        """Each failing check's name and what it said."""
        found: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                outcome = check()
                if inspect.isawaitable(outcome):
                    outcome = await outcome
            except Exception as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            if outcome:
                found[name] = str(outcome)
        return found
