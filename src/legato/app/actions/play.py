"""play and say: a prompt to the leg (a WAV, or text spoken by espeak-ng); `play_completed` when it ends.

Sandbox: prompts queue (each starts when the one before ends); `play_completed` after the WAV's length x
loop, or for say play_seconds per started 10 characters of text x loop (loop 0: only stop_play ends it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from legato.app.actions.base import URL, ActionContext, ActionSpec, Request
from legato.media.base import MediaEngine
from legato.network.sandbox_audio import wav_seconds
from legato.network.sandbox_leg import SandboxLeg

LOOP = (int | None, Field(None, ge=0, le=100, description="play, say: times to play; 0 = until stop_play"))


@dataclass(frozen=True, slots=True)
class Play:
    kind: ClassVar[str] = "play"
    path: str  # a local WAV file (the application layer checked it is allowed)
    loop: int = 1

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        return {"play_id": await engine.play(leg_sid, self.path, self.loop)}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        seconds = wav_seconds(self.path) if self.path else far_end.delays.play_seconds
        return {"play_id": far_end.queue_prompt(seconds, self.loop)}


@dataclass(frozen=True, slots=True)
class Say:
    kind: ClassVar[str] = "say"
    text: str
    voice: str = "en-us"  # an espeak-ng voice
    rate: int = 160  # words per minute
    loop: int = 1

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        return {"play_id": await engine.say(leg_sid, self.text, self.voice, self.rate)}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        seconds = far_end.delays.play_seconds * math.ceil(len(self.text) / 10)
        return {"play_id": far_end.queue_prompt(seconds, self.loop)}


def _loop(request: Request) -> int:
    return 1 if request.loop is None else request.loop


async def _play(request: Request, ctx: ActionContext) -> Play:
    return Play(await ctx.services.prompts.resolve(request.url), _loop(request))


async def _say(request: Request, ctx: ActionContext) -> Say:
    return Say(request.text, request.voice or "en-us", request.rate or 160, _loop(request))


PLAY = ActionSpec("play", {"url": URL, "loop": LOOP}, ("url",), command=_play)
SAY = ActionSpec("say", {
    "text": (str | None, Field(None, min_length=1, max_length=2000, description="say: the text to speak")),
    "voice": (str | None, Field(None, pattern=r"^[A-Za-z0-9_+-]{1,40}$", description="say: espeak-ng voice")),
    "rate": (int | None, Field(None, ge=80, le=450, description="say: words per minute")),
    "loop": LOOP,
}, ("text",), command=_say)
