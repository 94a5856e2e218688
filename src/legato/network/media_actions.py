"""Each leg media action (network/base.py `MediaCommand.kind`) as the media engine call that does it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from legato.domain.errors import ValidationFailed
from legato.media.base import MediaEngine
from legato.network.base import MediaCommand


async def _play(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    return {"play_id": await engine.play(leg_sid, c.path or "", c.loop)}


async def _say(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    return {"play_id": await engine.say(leg_sid, c.text or "", c.voice, c.rate)}


async def _start_recording(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    result = await engine.start_recording(leg_sid, c.direction, c.folder, c.transcribe, c.beep)  # type: ignore[arg-type]
    return {"recording_id": result["recording_id"]}


async def _stop_recording(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    result = await engine.stop_recording(leg_sid)
    return {"recording_id": result["recording_id"], "duration_ms": result["duration_ms"]}


async def _gather(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    speech = None
    if "speech" in c.input:
        speech = {"speech_timeout": c.speech_timeout, "hints": list(c.hints), "language": c.language}
    await engine.gather(leg_sid, c.num_digits, c.timeout, c.finish_on_key, c.input, speech, c.silence_timeout)
    return {}


async def _send_digits(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    await engine.send_digits(leg_sid, c.digits or "")
    return {}


async def _start_stream(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    spec = c.stream or {}
    await engine.start_stream(leg_sid, spec)
    return {"stream_sid": spec.get("stream_sid")}


async def _stop_stream(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
    await engine.stop_stream(leg_sid, c.stream_sid or "")
    return {}


Handler = Callable[[MediaEngine, str, MediaCommand], Awaitable[dict[str, Any]]]


def _simple(pick: Callable[[MediaEngine], Callable[[str], Awaitable[None]]]) -> Handler:
    """An action that is one engine call on the leg and returns nothing."""
    async def run(engine: MediaEngine, leg_sid: str, c: MediaCommand) -> dict[str, Any]:
        await pick(engine)(leg_sid)
        return {}
    return run


MEDIA_HANDLERS: dict[str, Handler] = {
    "play": _play, "say": _say, "start_recording": _start_recording, "stop_recording": _stop_recording,
    "gather": _gather, "send_digits": _send_digits, "stop_play": _simple(lambda e: e.stop_play),
    "mute": _simple(lambda e: e.mute), "unmute": _simple(lambda e: e.unmute), "hold": _simple(lambda e: e.hold),
    "unhold": _simple(lambda e: e.unhold), "start_stream": _start_stream, "stop_stream": _stop_stream,
}


async def run_media_action(engine: MediaEngine, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
    """Run one action; ValidationFailed for a kind no handler is registered for."""
    handler = MEDIA_HANDLERS.get(command.kind)
    if handler is None:
        raise ValidationFailed(f"unknown media action {command.kind!r}", field="action")
    return await handler(engine, leg_sid, command)
