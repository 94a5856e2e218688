"""What the leg machine asks the engine to do: record events, start or cancel timers, command the network."""

from __future__ import annotations

from dataclasses import dataclass

LIFECYCLE = "leg_lifecycle_event"
ACTION = "leg_action_event"


# ---- effects ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Emit:
    """Record an event (with the leg's state as it is now)."""

    name: str
    type: str = LIFECYCLE
    error: dict[str, object] | None = None
    data: dict[str, object] | None = None  # added to the leg's event data (e.g. bridge_sid)
    endpoint: str | None = None  # deliver here instead of the leg's endpoint (transfer_event_endpoint)


@dataclass(frozen=True, slots=True)
class StartTimer:
    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@dataclass(frozen=True, slots=True)
class NetworkCommand:
    """Tell the network to act: dial, cancel, bye, answer, reject (with `sip_code`), refer (blind transfer
    to the leg's transfer target)."""

    kind: str
    sip_code: int | None = None


Effect = Emit | StartTimer | CancelTimer | NetworkCommand
