"""A route dependency that refuses new legs (503 with Retry-After) while the server drains."""

from __future__ import annotations

from fastapi import Request


async def taking_legs(request: Request) -> None:
    """Raise Draining once SIGTERM started the drain."""
    request.app.state.runtime.drain.check_taking_legs()
