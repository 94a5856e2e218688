"""What a dialect is: a name and the renderers it offers (a leg, a call, an event body)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from legato.domain.call import Call
from legato.domain.conference import Conference
from legato.domain.events import LegEvent
from legato.domain.leg import Leg


@dataclass(frozen=True, slots=True)
class Dialect:
    """One provider's shapes; a renderer left None means the provider has no such object."""

    name: str
    render_leg: Callable[[Leg], dict[str, Any]] | None = None
    render_call: Callable[[Call, str], dict[str, Any]] | None = None  # (call, the call's own URL)
    render_event: Callable[[LegEvent, Leg], dict[str, Any] | None] | None = None  # None: no such callback
    # conference and participant events: (event, conference, the participant's leg if any); None: no such callback
    render_conference_event: Callable[[LegEvent, Conference, Leg | None], dict[str, Any] | None] | None = None
