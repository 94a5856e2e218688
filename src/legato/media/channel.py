"""The asyncio adapter around one leg's ChannelCore: its two UDP sockets, its timer, its file writes.

Everything media happens in the sans-I/O core (channel_core.py); this module only feeds it datagrams
and the loop's clock, sends what it drains, runs recording writes in a thread, and reports notices
through `notify(name, data)`. Speech (a gather's utterance, a recording to transcribe) goes to the
recogniser, which decodes in its own worker process; the answer is reported when it comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from legato.media import base
from legato.media.amd_params import AmdParams
from legato.media.amd_words import MAX_PENDING, PHRASES
from legato.media.channel_core import ChannelCore
from legato.media.channel_events import AmdWords, Notice, Recognise, RecordingDone
from legato.media.g711 import SAMPLE_RATE
from legato.media.gather import SpeechOptions
from legato.media.recorder import write_recording
from legato.media.rtcp import ReceiverStats
from legato.media.stream.core import StreamCore
from legato.media.stream.socket import CLOSE_TIMEOUT, StreamSocket, Target
from legato.speech import Recogniser, Recognition, SpeechInputError

log = logging.getLogger(__name__)

Notify = Callable[[str, dict[str, Any]], None]
GetRecogniser = Callable[[], Recogniser]


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.channel.core.rtcp_received(addr)

    def error_received(self, exc: Exception) -> None:
        pass


class Channel(asyncio.DatagramProtocol):
    """The media of one leg on the loop; `core` holds its state."""

    amd_lookups: ClassVar[set[asyncio.Task[None]]] = set()  # AMD word look-ups in flight, all legs

    def __init__(self, leg_id: str, port: int, notify: Notify, loop: asyncio.AbstractEventLoop,
                 recogniser: GetRecogniser | None = None) -> None:
        self.leg_id = leg_id
        self.recogniser = recogniser
        self.port = port
        self.notify = notify
        self.loop = loop
        self.core = ChannelCore(loop.time())
        self.peer: Channel | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._writes: set[asyncio.Future[None]] = set()
        self.sockets: dict[str, StreamSocket] = {}  # media streams by stream_sid
        self._speech: set[asyncio.Task[None]] = set()  # recognitions under way

    # ---- lifecycle ------------------------------------------------------------------------
    async def open(self, host: str) -> None:
        """Bind RTP on `port` and RTCP on `port + 1`; raises OSError when either is taken."""
        self.transport, _ = await self.loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, self.port))
        try:
            self.rtcp_transport, _ = await self.loop.create_datagram_endpoint(
                lambda: _RtcpProtocol(self), local_addr=(host, self.port + 1))
        except OSError:
            self.transport.close()
            raise
        self._flush()

    def close(self, reason: str = "released") -> ReceiverStats:
        """End everything on the channel and free its sockets; returns the receiver figures."""
        if self.core.closed:
            return self.core.stats.snapshot()
        stats = self.core.close(self.loop.time(), reason)
        self.peer = None
        self._flush()
        for socket in list(self.sockets.values()):
            socket.finish("hangup")
        for transport in (self.transport, self.rtcp_transport):
            if transport is not None:
                transport.close()
        return stats

    async def written(self) -> None:
        """Wait until the recordings this channel finished are on disk (and reported)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # ---- the datagram protocol ------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        core = self.core
        core.receive(data, addr, self.loop.time())
        self._flush()
        if self.peer is not None:
            self.peer._flush()

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp socket error leg_id=%s error=%s", self.leg_id, exc)

    # ---- driving the core -----------------------------------------------------------------
    def _on_timer(self) -> None:
        self._timer = self._timer_at = None
        self.core.tick(self.loop.time())
        self._flush()

    def _flush(self) -> None:
        """Send what the core drained, report its events, and re-arm the one timer."""
        datagrams, events = self.core.drain()
        for dgram in datagrams:
            transport = self.rtcp_transport if dgram.rtcp else self.transport
            if transport is not None:
                transport.sendto(dgram.data, dgram.addr)
        for socket in self.sockets.values():
            socket.flush()
        for event in events:
            if isinstance(event, Notice):
                self.notify(event.name, event.data)
            elif isinstance(event, Recognise):
                self._recognise_gather(event)
            elif isinstance(event, AmdWords):
                self._amd_words(event)
            else:
                self._write(event)
        due = None if self.core.closed else self.core.next_timer()
        if due != self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = due
            self._timer = None if due is None else self.loop.call_at(due, self._on_timer)

    def _write(self, done: RecordingDone) -> None:
        future = self.loop.run_in_executor(None, write_recording, done.path, done.pcm)
        self._writes.add(future)

        def report(fut: asyncio.Future[None]) -> None:
            self._writes.discard(fut)
            if fut.exception() is not None:
                log.error("recording write failed leg_id=%s path=%s error=%s", self.leg_id, done.path,
                          fut.exception())
            self.notify(base.RECORDING_COMPLETED, done.result)
            if done.transcribe:
                self._spawn(self._transcribe(done))

        future.add_done_callback(report)

    # ---- speech ---------------------------------------------------------------------------
    def _spawn(self, work: Any) -> asyncio.Task[None]:
        task = self.loop.create_task(work)
        self._speech.add(task)
        task.add_done_callback(self._speech.discard)
        return task

    async def _recognition(self, pcm: bytes, options: SpeechOptions) -> tuple[Recognition | None, str | None]:
        """The recogniser's answer, or None and why it failed (never raises)."""
        if self.recogniser is None:
            return None, "no speech recogniser"
        try:
            return await self.recogniser().recognise(pcm, SAMPLE_RATE, options.hints, options.language), None
        except SpeechInputError as exc:
            return None, str(exc)
        except Exception as exc:  # a crashed worker must not lose the gather's result
            log.exception("speech recognition failed leg_id=%s", self.leg_id)
            return None, f"recognition failed: {exc.__class__.__name__}"

    def _recognise_gather(self, event: Recognise) -> None:
        async def run() -> None:
            found, error = await self._recognition(event.pcm, event.options)
            data = {**event.result, "speech_result": found.text if found else "",
                    "confidence": round(found.confidence, 4) if found else 0.0}
            if error is not None:
                data["speech_error"] = error
            self.notify(base.GATHER_COMPLETED, data)

        self._spawn(run())

    def _amd_words(self, event: AmdWords) -> None:
        """Spot a machine's phrases in the greeting so far; skipped (the greeting judge decides alone) without
        a recogniser or while MAX_PENDING look-ups of this media process are in flight."""
        if self.recogniser is None or len(Channel.amd_lookups) >= MAX_PENDING:
            return
        recogniser = self.recogniser()

        async def run() -> None:
            try:
                found = await recogniser.recognise(event.pcm, SAMPLE_RATE, PHRASES, hints_only=True)
            except Exception:
                log.exception("AMD word look-up failed leg_id=%s", self.leg_id)
                return
            self.core.amd_heard(found.text)
            self._flush()

        task = self._spawn(run())
        Channel.amd_lookups.add(task)
        task.add_done_callback(Channel.amd_lookups.discard)

    async def _transcribe(self, done: RecordingDone) -> None:
        found, error = await self._recognition(done.pcm, SpeechOptions())
        data = {"recording_id": done.result.get("recording_id"), "path": str(done.path),
                "status": "completed" if found is not None else "failed",
                "text": found.text if found else "", "confidence": round(found.confidence, 4) if found else 0.0}
        if error is not None:
            data["error"] = error
        self.notify(base.TRANSCRIPTION_COMPLETED, data)

    # ---- commands -------------------------------------------------------------------------
    def set_remote(self, host: str, port: int, payload_type: int, te_pt: int | None) -> None:
        self.core.set_remote(host, port, payload_type, te_pt)

    def bridge(self, other: Channel) -> None:
        self.core.bridge(other.core)
        self.peer, other.peer = other, self

    def unbridge(self) -> None:
        self.core.unbridge()
        if self.peer is not None:
            self.peer.peer = None
            self.peer = None

    def send_mix(self, pcm: bytes) -> None:
        """Send this leg its share of a conference's mix (media/conference.py)."""
        self.core.send_mix(pcm, self.loop.time())
        self._flush()

    def play(self, pcm: bytes, loop: int) -> str:
        play_id = self.core.play(pcm, loop, self.loop.time())
        self._flush()
        return play_id

    def stop_play(self, reason: str = "stopped") -> None:
        self.core.stop_play(reason)
        self._flush()

    def send_digits(self, digits: str, duration_ms: int) -> None:
        self.core.send_digits(digits, duration_ms, self.loop.time())
        self._flush()

    def start_recording(self, path: Path, direction: str, transcribe: bool = False, beep: bool = False) -> str:
        rec_id = self.core.start_recording(path, direction, self.loop.time(), transcribe, beep)
        self._flush()
        return rec_id

    async def stop_recording(self, reason: str = "stopped") -> dict[str, Any]:
        done = self.core.stop_recording(self.loop.time(), reason)
        self._flush()
        await self.written()
        return done.result

    def start_gather(self, num_digits: int | None, timeout: float, finish_on_key: str | None,
                     input: str = "dtmf", speech: SpeechOptions | None = None,
                     silence_timeout: float | None = None) -> None:
        self.core.start_gather(num_digits, timeout, finish_on_key, self.loop.time(), input, speech, silence_timeout)
        self._flush()

    def start_amd(self, params: AmdParams) -> None:
        self.core.start_amd(params, self.loop.time())
        self._flush()

    # ---- media streams ----------------------------------------------------------------------
    def start_stream(self, stream: StreamCore, target: Target) -> None:
        """Open a stream's WebSocket; stream_started once it is up, stream_stopped (once) when it ends."""
        self.core.start_stream(stream)
        sid = stream.stream_sid

        def on_frame(text: str) -> None:
            try:
                self.core.stream_received(stream, text, self.loop.time())
            finally:
                self._flush()

        def on_end(reason: str, message: str | None) -> None:
            self.sockets.pop(sid, None)
            self.core.streams.remove(sid)
            self.notify(base.STREAM_STOPPED, {"stream_sid": sid, "reason": reason,
                                              **({"message": message[:200]} if message else {})})

        socket = StreamSocket(stream, target, on_frame,
                              lambda: self.notify(base.STREAM_STARTED, {"stream_sid": sid}), on_end)
        self.sockets[sid] = socket
        socket.start()

    def stop_stream(self, stream_sid: str) -> None:
        socket = self.sockets.get(stream_sid)
        if socket is None or socket.reason is not None:
            raise base.MediaError("conflict", f"no stream {stream_sid!r} runs on this leg")
        socket.finish("requested")

    async def streams_closed(self) -> None:
        """Wait (bounded) until every stream sent its `stop` and closed."""
        pending = [socket.done for socket in self.sockets.values()]
        if pending:
            await asyncio.wait(pending, timeout=2 * CLOSE_TIMEOUT)
