"""Sinks deliver one signed event to one endpoint and classify the outcome.

A sink returns a Result for everything the endpoint or the network does; an exception out of a sink
is a bug in it, which the dispatcher logs and records as `failed` (never retried). Each sink module
declares `SINK = SinkKind(...)`: the URL schemes it serves and how to build it; registry.py lists them
(one line per sink).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import EndpointPolicy, EndpointRefused, Unresolvable
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


NOT_SENT = (ValidationFailed, EndpointRefused, Unresolvable)
"""What stops an attempt before anything is sent: a bad stored URL, a refused or unresolvable host."""


def not_sent(exc: Exception) -> Result:
    """The outcome of an attempt stopped by one of NOT_SENT: only a host that does not resolve is retried."""
    if isinstance(exc, Unresolvable):
        return Result("retry", error=str(exc))
    return Result("failed", status="refused",
                  error=f"not sent: {exc.message if isinstance(exc, ValidationFailed) else exc}")


@dataclass(frozen=True, slots=True)
class SinkOptions:
    """What the operator sets for every sink, and the policy checking each address a sink connects to."""

    timeout: float = 5.0  # seconds per attempt
    max_connections_per_host: int = 64
    policy: EndpointPolicy = field(default_factory=EndpointPolicy)


@dataclass(frozen=True, slots=True)
class SinkKind:
    """One kind of sink: its URL schemes and its factory."""

    schemes: tuple[str, ...]
    advertised: tuple[str, ...]  # the prefixes named in "must start with ..."
    build: Callable[[SinkOptions], Sink]
