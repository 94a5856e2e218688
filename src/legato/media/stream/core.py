"""One leg's media streams as sans-I/O state: what goes to each WebSocket, what plays back from it.

`StreamSet` is held by the channel core (media/channel_core.py) and fed the leg's audio in 8 kHz
16-bit PCM (`feed`), digits (`digit`) and the 20 ms send clock (`next_frame`); each `StreamCore`
collects the text frames to send (`drain`) and takes what the application sent (`receive`). The
WebSocket itself is media/stream/socket.py.

Playout of a bidirectional stream: audio from the application is queued (a bursty sender may send
faster than real time) and leaves in 20 ms frames on the send clock, without gaps while audio is
queued. The queue is the jitter buffer: a frame that arrives while the clock runs waits for its tick,
one that arrives when the queue ran dry plays at once (the lowest latency for a real-time sender); a
partial frame at the end waits one frame for more audio before it is padded with silence. A mark is returned once
the audio queued before it has been sent, `clear` drops the queue at once and returns pending marks.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from legato.media.commands import StartStream
from legato.media.g711 import FRAME_BYTES, FRAME_MS
from legato.media.stream.protocol import (
    AgentAudio,
    AgentClear,
    AgentMark,
    Framing,
    ProtocolError,
    StreamInfo,
)
from legato.media.stream.registry import PROTOCOLS

STREAM_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # framed into JSON as is (media/stream/twilio.py)
MAX_UNIDIRECTIONAL = 4  # streams that only listen, per leg, beside the one bidirectional stream
MAX_MARKS = 10_000  # marks waiting for their audio, per stream
EVENT_NAMES = {AgentAudio: "media", AgentMark: "mark", AgentClear: "clear"}  # as the application sent them
MAX_QUEUED_BYTES = 16_000 * 300  # 5 minutes of queued playout per stream; more is a protocol error


def check_room(bidirectional: list[bool], new_bidirectional: bool) -> str | None:
    """Why a leg running streams of these kinds cannot take a new one, or None when it can."""
    if new_bidirectional and any(bidirectional):
        return "the leg already has a bidirectional stream (one per leg)"
    if not new_bidirectional and sum(1 for b in bidirectional if not b) >= MAX_UNIDIRECTIONAL:
        return f"the leg already has {MAX_UNIDIRECTIONAL} unidirectional streams"
    return None


@dataclass(slots=True)
class Playout:
    """Queued PCM from the application, with the marks placed between its bytes."""

    chunks: deque[bytes] = field(default_factory=deque)
    queued: int = 0  # bytes in `chunks`
    total_in: int = 0  # bytes ever queued (mark positions count in these)
    total_out: int = 0  # bytes ever played or cleared
    marks: deque[tuple[int, str]] = field(default_factory=deque)
    waited: bool = False  # the partial frame at the end waited one tick

    def add(self, pcm: bytes) -> None:
        if pcm:
            self.chunks.append(pcm)
            self.queued += len(pcm)
            self.total_in += len(pcm)
            self.waited = False

    def take(self) -> bytes | None:
        """The next 20 ms frame, None when nothing should play now (empty, or a short tail still waiting)."""
        if not self.queued:
            return None
        mark_at_end = bool(self.marks) and self.marks[0][0] <= self.total_in
        if self.queued < FRAME_BYTES and not self.waited and not mark_at_end:
            self.waited = True
            return None
        out = bytearray()
        while self.chunks and len(out) < FRAME_BYTES:
            chunk = self.chunks.popleft()
            need = FRAME_BYTES - len(out)
            if len(chunk) > need:
                self.chunks.appendleft(chunk[need:])
                chunk = chunk[:need]
            out += chunk
        self.queued -= len(out)
        self.total_out += len(out)
        self.waited = False
        return bytes(out).ljust(FRAME_BYTES, b"\x00")

    def due_marks(self) -> list[str]:
        """Marks whose audio has all been played."""
        names = []
        while self.marks and self.marks[0][0] <= self.total_out:
            names.append(self.marks.popleft()[1])
        return names

    def clear(self) -> list[str]:
        self.chunks.clear()
        self.total_out += self.queued
        self.queued = 0
        return [name for _, name in self._drain_marks()]

    def _drain_marks(self) -> list[tuple[int, str]]:
        marks = list(self.marks)
        self.marks.clear()
        return marks


class StreamCore:
    """One stream: its protocol framing, its per-track chunking, its playout."""

    def __init__(self, stream_sid: str, framing: Framing, tracks: tuple[str, ...], bidirectional: bool) -> None:
        self.stream_sid = stream_sid
        self.framing = framing
        self.tracks = tracks
        self.bidirectional = bidirectional
        self.started: float | None = None  # when the WebSocket opened (timestamps count from here)
        self.closed = False
        self.playout = Playout()
        self._partial: dict[str, bytes] = {}
        self._chunks: dict[str, int] = {}
        self._stamps: dict[str, int] = {}  # the last chunk's timestamp (ms), per track
        self._out: list[str] = []

    def drain(self) -> list[str]:
        out, self._out = self._out, []
        return out

    def open(self, now: float) -> None:
        """The WebSocket is up: `connected` and `start` go first."""
        self.started = now
        self._out.extend(self.framing.opening())

    def feed(self, track: str, pcm: bytes, now: float) -> None:
        """The leg's audio on `track` (inbound: what the far end says; outbound: what it hears)."""
        if self.started is None or self.closed or track not in self.tracks:
            return
        pending = self._partial.get(track, b"") + pcm
        while len(pending) >= FRAME_BYTES:
            chunk = self._chunks[track] = self._chunks.get(track, 0) + 1
            # when the chunk's first sample arrived (16 bytes a ms), at least one chunk after the last one
            arrived = round((now - self.started) * 1000 - len(pending) / 16)
            stamp = max(0, arrived, self._stamps.get(track, -FRAME_MS) + FRAME_MS)
            self._stamps[track] = stamp
            self._out.append(self.framing.media(track, pending[:FRAME_BYTES], chunk, stamp))
            pending = pending[FRAME_BYTES:]
        self._partial[track] = pending

    def digit(self, digit: str) -> None:
        if self.started is not None and not self.closed:
            self._out.append(self.framing.dtmf(digit))

    def receive(self, text: str) -> bool:
        """A frame from the application; True when it queued audio (the send clock must run).
        ProtocolError when the frame is not one the protocol allows."""
        message = self.framing.parse(text)
        if message is None or self.closed:
            return False
        if not self.bidirectional:
            raise ProtocolError(f"{EVENT_NAMES[type(message)]} sent on a unidirectional stream")
        if isinstance(message, AgentAudio):
            if self.playout.queued + len(message.pcm) > MAX_QUEUED_BYTES:
                raise ProtocolError("more than 5 minutes of audio queued")
            self.playout.add(message.pcm)
            return True
        if isinstance(message, AgentMark):
            if len(self.playout.marks) >= MAX_MARKS:
                raise ProtocolError(f"more than {MAX_MARKS} marks waiting")
            self.playout.marks.append((self.playout.total_in, message.name))
            self._return_marks(self.playout.due_marks())
            return True
        if isinstance(message, AgentClear):
            self._return_marks(self.playout.clear())
        return False

    def next_frame(self) -> bytes | None:
        """The next 20 ms of the application's audio to send to the leg (None: nothing now)."""
        frame = self.playout.take()
        self._return_marks(self.playout.due_marks())
        return frame

    @property
    def playing(self) -> bool:
        return self.playout.queued > 0

    def _return_marks(self, names: list[str]) -> None:
        self._out.extend(self.framing.mark(name) for name in names)

    def close(self) -> None:
        """The stream ends: pending marks come back (as on clear), then `stop`."""
        if self.closed:
            return
        if self.started is not None:
            self._return_marks(self.playout.clear())
            self._out.append(self.framing.closing())
        self.closed = True


class StreamSet:
    """The streams of one leg, by stream_sid."""

    def __init__(self) -> None:
        self.streams: dict[str, StreamCore] = {}
        self._tracks: frozenset[str] = frozenset()  # the tracks some stream takes (checked on every packet)

    def __bool__(self) -> bool:
        return bool(self.streams)

    def add(self, stream: StreamCore) -> None:
        reason = check_room([s.bidirectional for s in self.streams.values()], stream.bidirectional)
        if reason is not None:
            raise ValueError(reason)
        self.streams[stream.stream_sid] = stream
        self._tracks = self._tracks | set(stream.tracks)

    def remove(self, stream_sid: str) -> None:
        self.streams.pop(stream_sid, None)
        self._tracks = frozenset(t for s in self.streams.values() for t in s.tracks)

    def close(self) -> None:
        """The leg ends: every stream returns its pending marks and sends stop."""
        for stream in self.streams.values():
            stream.close()

    def wants(self, track: str) -> bool:
        return track in self._tracks

    def feed(self, track: str, pcm: bytes, now: float) -> None:
        for stream in self.streams.values():
            stream.feed(track, pcm, now)

    def digit(self, digit: str) -> None:
        for stream in self.streams.values():
            stream.digit(digit)

    @property
    def playing(self) -> bool:
        return any(s.playing for s in self.streams.values() if s.bidirectional)

    def next_frame(self) -> bytes | None:
        for stream in self.streams.values():
            if stream.bidirectional:
                return stream.next_frame()
        return None


def build_stream(cmd: StartStream) -> StreamCore:
    """The stream a start_stream command asks for; ValueError names what is wrong."""
    if not STREAM_SID.fullmatch(cmd.stream_sid):
        raise ValueError("stream_sid must be 1-64 characters of A-Z a-z 0-9 _ -")
    framing_of = PROTOCOLS.get(cmd.protocol)
    if framing_of is None:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
    tracks = TRACKS.get(cmd.track)
    if tracks is None:
        raise ValueError("track must be inbound, outbound or both")
    params = cmd.custom_parameters or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise ValueError("custom_parameters must map strings to strings")
    info = StreamInfo(cmd.stream_sid, cmd.account_sid, cmd.leg_id, tracks, dict(params), cmd.sample_rate)
    return StreamCore(cmd.stream_sid, framing_of(info), tracks, bool(cmd.bidirectional))


TRACKS = {"inbound": ("inbound",), "outbound": ("outbound",), "both": ("inbound", "outbound")}
