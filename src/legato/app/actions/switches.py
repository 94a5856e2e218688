"""mute, unmute, hold, unhold: what a bridged leg says stops reaching its peer (mute), or all bridge audio to
and from it stops (hold), until undone. Sandbox: accepted, nothing to simulate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class Switch:
    kind: str
    call: Callable[[MediaEngine], Callable[[str], Awaitable[None]]]  # the engine's method of that name

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        await self.call(engine)(leg_sid)
        return {}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        return {}


def _switch(name: str, call: Callable[[MediaEngine], Callable[[str], Awaitable[None]]]) -> ActionSpec:
    async def command(request: Request, ctx: ActionContext) -> Switch:
        return Switch(name, call)

    return ActionSpec(name, command=command)


MUTE = _switch("mute", lambda engine: engine.mute)
UNMUTE = _switch("unmute", lambda engine: engine.unmute)
HOLD = _switch("hold", lambda engine: engine.hold)
UNHOLD = _switch("unhold", lambda engine: engine.unhold)
