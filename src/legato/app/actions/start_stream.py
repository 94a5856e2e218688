"""start_stream: stream the leg's audio to the application's WebSocket (app/streams.py, docs/voice-agents.md).

Sandbox: a real WebSocket to the application; the far end speaks and keys what the leg's `sandbox_far_end`
says, what the application sends is recorded (network/sandbox_streams.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from legato.app.actions.base import URL, ActionContext, ActionSpec, Request
from legato.app.streams import SANDBOX_KEY, StreamProtocol, from_action, stream_sid
from legato.domain.leg import Leg
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class StartStream:
    kind: ClassVar[str] = "start_stream"
    stream: dict[str, Any]  # media/commands.py StartStream's fields without leg_id (app/streams.py start_spec)
    folder: str | None = None  # the sandbox records what the application sends under this (the account's)
    far_end: dict[str, Any] | None = None  # what the sandbox's far end says and keys (the leg's sandbox_far_end)

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        await engine.start_stream(leg_sid, self.stream)
        return {"stream_sid": self.stream.get("stream_sid")}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        return await far_end.streams.start(far_end.leg_sid, self.stream, self.far_end, self.folder)


def for_leg(leg: Leg | None, stream: dict[str, Any]) -> StartStream:
    """The command starting `stream` on this leg (with its sandbox far end)."""
    if leg is None:
        return StartStream(stream)
    far_end = leg.extra.get(SANDBOX_KEY)
    return StartStream(stream, leg.account_sid, far_end if isinstance(far_end, dict) else None)


async def _start_stream(request: Request, ctx: ActionContext) -> StartStream:
    stream = from_action(request.model_dump())
    streams = ctx.services.streams
    await streams.check(stream)
    return for_leg(ctx.leg, await streams.start_spec(ctx.account.account_sid, stream, stream_sid()))


ACTION = ActionSpec("start_stream", {
    "url": URL,
    "protocol": (StreamProtocol | None, Field(None, description="start_stream: twilio or exotel")),
    "track": (Literal["inbound", "outbound", "both"] | None, Field(None, description="start_stream: which audio")),
    "bidirectional": (bool | None, Field(
        None, description="start_stream: the application's media plays to the leg")),
    "custom_parameters": (dict[str, str] | None, Field(None, max_length=32,
                                                       description="start_stream: sent in the start message")),
    "sample_rate": (int | None, Field(None, description="start_stream: exotel 8000, 16000 or 24000; twilio 8000")),
}, ("url",), command=_start_stream)
