"""Exotel AgentStream / Voicebot framing: snake_case JSON, base64 16-bit LE PCM at 8, 16 or 24 kHz.

Exotel asks applications for chunks that are a multiple of 320 bytes; Legato takes any whole number
of samples (Pipecat 1.14's Exotel serializer sends what its resampler gives, e.g. 1,516 bytes) and
refuses only a payload that splits a sample. Legato sends 20 ms chunks (320, 640 or 960 bytes, all
multiples of 320). `streamSid` is accepted for `stream_sid`.
"""

from __future__ import annotations

import base64

from legato.media import g711
from legato.media.stream.protocol import (
    AgentAudio,
    AgentClear,
    AgentMark,
    AgentMessage,
    ProtocolError,
    StreamInfo,
    dump,
    load,
    mark_name,
    payload_bytes,
)

SAMPLE_RATES = (8000, 16000, 24000)


class ExotelFraming:
    """One stream in Exotel's protocol."""

    def __init__(self, info: StreamInfo) -> None:
        if info.sample_rate not in SAMPLE_RATES:
            raise ValueError("exotel streams are 8000, 16000 or 24000 Hz")
        self.info = info
        self.sequence = 0
        self._up: dict[str, object] = {}  # resampler state per track (8 kHz -> sample_rate)
        self._carry: dict[str, bytes] = {}  # resampled bytes past the last whole chunk, per track
        self._chunk = info.sample_rate // 50 * 2  # 20 ms: 320, 640 or 960 bytes
        self._down: object = None  # sample_rate -> 8 kHz

    def _frame(self, event: str, body: dict[str, object]) -> str:
        self.sequence += 1
        return dump({"event": event, "sequence_number": self.sequence, "stream_sid": self.info.stream_sid, **body})

    def opening(self) -> list[str]:
        info = self.info
        start = {
            "stream_sid": info.stream_sid,
            "call_sid": info.call_sid,
            "account_sid": info.account_sid,
            "tracks": list(info.tracks),
            "custom_parameters": dict(info.custom_parameters),
            "media_format": {
                "encoding": "base64",
                "sample_rate": str(info.sample_rate),
                "bit_rate": f"{info.sample_rate * 16 // 1000}kbps",
            },
        }
        return [dump({"event": "connected"}), self._frame("start", {"start": start})]

    def media(self, track: str, pcm: bytes, chunk: int, timestamp_ms: int) -> str:
        out, self._up[track] = g711.resample(pcm, 8000, self.info.sample_rate, self._up.get(track))
        out = self._carry.get(track, b"") + out
        if len(out) < self._chunk:  # the resampler gives a sample less now and then: keep chunks whole
            out = bytes(self._chunk - len(out)) + out
        pcm, self._carry[track] = out[: self._chunk], out[self._chunk :]
        return self._frame(
            "media",
            {
                "media": {
                    "track": track,
                    "chunk": chunk,
                    "timestamp": str(timestamp_ms),
                    "payload": base64.b64encode(pcm).decode("ascii"),
                }
            },
        )

    def dtmf(self, digit: str) -> str:
        return self._frame("dtmf", {"dtmf": {"digit": digit, "duration": "100"}})

    def mark(self, name: str) -> str:
        return self._frame("mark", {"mark": {"name": name}})

    def closing(self) -> str:
        return self._frame(
            "stop",
            {"stop": {"call_sid": self.info.call_sid, "account_sid": self.info.account_sid, "reason": "stopped"}},
        )

    def parse(self, text: str) -> AgentMessage | None:
        message = load(text)
        event = message.get("event")
        if event == "media":
            pcm = payload_bytes(message)
            if len(pcm) % 2:
                raise ProtocolError(f"media.payload must be whole 16-bit samples (got {len(pcm)} bytes)")
            pcm, self._down = g711.resample(pcm, self.info.sample_rate, 8000, self._down)
            return AgentAudio(pcm)
        if event == "mark":
            return AgentMark(mark_name(message))
        if event == "clear":
            return AgentClear()
        if event is not None and not isinstance(event, str):  # no event at all: a message to pass over
            raise ProtocolError("event must be a string")
        return None
