"""Sinks deliver one signed event to one endpoint and classify the outcome; they never raise.

Each sink module declares `SINK = SinkKind(...)`: the URL schemes it serves, the rule its endpoints
follow and how to build it; registry.py lists them (one line per sink).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import SplitResult

from legato.events.signature import SignedEvent

Outcome = Literal["delivered", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class Result:
    """What one attempt came to. `retry_after` (seconds) is the endpoint's own request, if any."""

    outcome: Outcome
    status_code: int | None = None
    status: str | None = None
    error: str | None = None
    retry_after: float | None = None


class Sink(Protocol):
    """Delivers to the endpoints of one or more URL schemes."""

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SinkOptions:
    """What the operator sets for every sink."""

    timeout: float = 5.0  # seconds per attempt
    max_connections_per_host: int = 64


@dataclass(frozen=True, slots=True)
class SinkKind:
    """One kind of sink: its URL schemes, the rule its endpoints break (None: fine), its factory."""

    schemes: tuple[str, ...]
    advertised: tuple[str, ...]  # the prefixes named in "must start with ..."
    check: Callable[[SplitResult], str | None]
    build: Callable[[SinkOptions], Sink]
