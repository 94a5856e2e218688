"""Media streams on sandbox legs: a real WebSocket to the application, a simulated far end behind it.

The far end speaks (`far_end.say`: espeak-ng text, or `far_end.play`: a WAV) once the stream is up,
then silence; it presses `far_end.keys` one every 0.3 s from `far_end.keys_after` s (each arrives as
`dtmf` on the stream and as a `dtmf_received` event). What a bidirectional stream's application sends
plays out in real time (20 ms frames, as on a SIP leg) into a recording of the leg's outbound audio,
reported as `recording_completed` (direction out) when the stream stops. Audio runs on the loop's real
clock whatever the sandbox time scale, since the application on the other side listens in real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato.domain import machine as m
from legato.domain.errors import Conflict, ValidationFailed
from legato.media import commands
from legato.media.g711 import FRAME_BYTES
from legato.media.recorder import write_recording
from legato.media.rtp_sender import PTIME
from legato.media.speech import SpeechError, synthesize_async
from legato.media.stream.core import StreamCore, build_stream, check_room
from legato.media.stream.socket import StreamSocket, Target
from legato.media.wavfile import AudioFileError, read_pcm

log = logging.getLogger(__name__)
KEY_INTERVAL = 0.3
DEFAULT_SAY = "Hello, this is the Legato sandbox calling."
MAX_RECORDING_BYTES = 16_000 * 3600  # an hour of 8 kHz PCM


@dataclass(slots=True)
class _Stream:
    core: StreamCore
    socket: StreamSocket
    voice: bytes  # what the far end says (8 kHz PCM), played from the start
    keys: str
    keys_after: float
    folder: Path
    heard: bytearray = field(default_factory=bytearray)  # what the application sent, as played
    position: int = 0
    ticks: int = 0
    timer: asyncio.TimerHandle | None = None


class SandboxStreams:
    """Every stream of the sandbox's legs."""

    def __init__(self, recordings_dir: Path, cache_dir: Path) -> None:
        self.recordings_dir = recordings_dir
        self.cache_dir = cache_dir
        self.signals: Callable[[str, m.Input], None] = lambda leg_sid, signal: None  # network/base.py SignalSink
        self.legs: dict[str, dict[str, _Stream]] = {}

    async def start(self, leg_sid: str, spec: dict[str, Any], far_end: dict[str, Any] | None,
                    folder: str | None) -> dict[str, Any]:
        """Start a stream (`spec`: media/commands.py StartStream's fields without leg_id) whose far end says and
        keys what `far_end` (the leg's sandbox_far_end) gives; what it hears is recorded under `folder`."""
        spec = dict(spec)
        try:
            core = build_stream(commands.StartStream(leg_sid, **spec))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(str(exc), field="action") from None
        streams = self.legs.setdefault(leg_sid, {})
        reason = check_room([s.core.bidirectional for s in streams.values()], core.bidirectional)
        if reason is not None:
            raise Conflict(reason, field="action")
        far_end = far_end or {}
        voice = await self._voice(far_end)
        sid = core.stream_sid
        socket = StreamSocket(
            core,
            Target(spec["url"], spec["address"], dict(spec.get("headers") or {})),
            lambda text: self._received(streams[sid], text),
            lambda: self._opened(leg_sid, streams[sid]),
            lambda reason, message: self._ended(leg_sid, sid, reason, message),
        )
        path = self.recordings_dir / (folder or "")
        streams[sid] = _Stream(
            core, socket, voice, str(far_end.get("keys") or ""), float(far_end.get("keys_after") or 1.0), path
        )
        socket.start()
        return {"stream_sid": sid}

    def stop(self, leg_sid: str, stream_sid: str | None) -> dict[str, Any]:
        stream = self.legs.get(leg_sid, {}).get(stream_sid or "")
        if stream is None or stream.socket.reason is not None:
            raise Conflict(f"no stream {stream_sid!r} runs on this leg", field="stream_sid")
        stream.socket.finish("requested")
        return {}

    def drop(self, leg_sid: str) -> None:
        """The leg ended: each stream sends stop and closes (stream_stopped reason hangup)."""
        for stream in list(self.legs.get(leg_sid, {}).values()):
            stream.socket.finish("hangup")

    async def _voice(self, far_end: dict[str, Any]) -> bytes:
        try:
            if far_end.get("play"):
                return await asyncio.to_thread(read_pcm, str(far_end["play"]))
            path = await synthesize_async(
                str(far_end.get("say") or DEFAULT_SAY), self.cache_dir, str(far_end.get("voice") or "en-us"), 160
            )
            return await asyncio.to_thread(read_pcm, path)
        except (SpeechError, AudioFileError, OSError, TimeoutError) as exc:
            log.warning("sandbox far end stays silent: %s", exc)
            return b""

    # -- the stream's life --
    def _opened(self, leg_sid: str, stream: _Stream) -> None:
        self.signals(leg_sid, m.MediaEvent("stream_started", {"stream_sid": stream.core.stream_sid}))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, key in enumerate(stream.keys):
            loop.call_at(start + stream.keys_after + index * KEY_INTERVAL, self._press, leg_sid, stream, key)
        self._tick(leg_sid, stream, start)

    def _tick(self, leg_sid: str, stream: _Stream, start: float) -> None:
        """20 ms of the far end's voice to the application, 20 ms of the application's audio into the recording."""
        if stream.core.closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        frame = stream.voice[stream.position : stream.position + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00")
        stream.position += FRAME_BYTES
        stream.core.feed("inbound", frame, now)
        played = (stream.core.next_frame() if stream.core.bidirectional else None) or bytes(FRAME_BYTES)
        if stream.core.bidirectional and len(stream.heard) < MAX_RECORDING_BYTES:
            stream.heard += played
        # what the far end hears: the bidirectional stream's playout goes to every stream of the leg (a listener
        # beside an agent hears the agent), silence when the leg has no bidirectional stream
        others = [s for s in self.legs.get(leg_sid, {}).values() if s is not stream and not s.core.closed]
        if stream.core.bidirectional or not any(s.core.bidirectional for s in others):
            for listener in (stream, *others) if stream.core.bidirectional else (stream,):
                listener.core.feed("outbound", played, now)
                listener.socket.flush()
        stream.socket.flush()
        stream.ticks += 1
        stream.timer = loop.call_at(max(now, start + stream.ticks * PTIME), self._tick, leg_sid, stream, start)

    def _press(self, leg_sid: str, stream: _Stream, key: str) -> None:
        if stream.core.closed:
            return
        stream.core.digit(key)
        stream.socket.flush()
        self.signals(leg_sid, m.MediaEvent("dtmf_received", {"digit": key, "source": "sandbox"}))

    def _received(self, stream: _Stream, text: str) -> None:
        stream.core.receive(text)
        stream.socket.flush()

    def _ended(self, leg_sid: str, stream_sid: str, reason: str, message: str | None) -> None:
        streams = self.legs.get(leg_sid, {})
        stream = streams.pop(stream_sid, None)
        if not streams:
            self.legs.pop(leg_sid, None)
        data: dict[str, Any] = {"stream_sid": stream_sid, "reason": reason}
        if message:
            data["message"] = message[:200]
        self.signals(leg_sid, m.MediaEvent("stream_stopped", data))
        if stream is not None:
            if stream.timer is not None:
                stream.timer.cancel()
            if stream.core.bidirectional and stream.core.started is not None:
                asyncio.get_running_loop().create_task(self._keep(leg_sid, stream))

    async def _keep(self, leg_sid: str, stream: _Stream) -> None:
        """Write what the application sent as the leg's outbound recording, then report it."""
        name = f"{leg_sid}-{stream.core.stream_sid}.wav"
        await asyncio.to_thread(write_recording, stream.folder / name, bytes(stream.heard))
        self.signals(
            leg_sid,
            m.MediaEvent(
                "recording_completed",
                {
                    "recording_id": stream.core.stream_sid,
                    "file": name,
                    "duration_ms": len(stream.heard) // 16,
                    "direction": "out",
                    "reason": "stream_stopped",
                },
            ),
        )
