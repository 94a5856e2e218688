"""stop_play: every playing and queued prompt ends now (`play_completed` reason stopped)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class StopPlay:
    kind: ClassVar[str] = "stop_play"

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        await engine.stop_play(leg_sid)
        return {}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        far_end.stop_prompts("stopped")
        return {}


async def _stop_play(request: Request, ctx: ActionContext) -> StopPlay:
    return StopPlay()


ACTION = ActionSpec("stop_play", command=_stop_play)
