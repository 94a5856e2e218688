"""Sinks deliver one signed event to one endpoint and classify the outcome; they never raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
