"""stop_stream: end one of the leg's streams (`stop` is sent, then the WebSocket closes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class StopStream:
    kind: ClassVar[str] = "stop_stream"
    stream_sid: str

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        await engine.stop_stream(leg_sid, self.stream_sid)
        return {}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        return far_end.streams.stop(far_end.leg_sid, self.stream_sid)


async def _stop_stream(request: Request, ctx: ActionContext) -> StopStream:
    return StopStream(request.stream_sid)


ACTION = ActionSpec("stop_stream", {
    "stream_sid": (str | None, Field(None, pattern=r"^[A-Za-z0-9]{1,64}$", description="stop_stream: which stream")),
}, ("stream_sid",), command=_stop_stream)
