"""The stream protocol interface and its registry: adding a protocol is one module and one line here.

A protocol turns what happens on the leg into text frames for the application (`opening`, `media`,
`dtmf`, `mark`, `closing`) and parses what the application sends (`parse`) into `AgentAudio`,
`AgentMark` or `AgentClear`. Audio crosses the interface as 16-bit little-endian PCM at 8000 Hz.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a protocol's `start` message describes."""

    stream_sid: str
    account_sid: str
    call_sid: str  # the leg_sid
    tracks: tuple[str, ...]  # ("inbound",), ("outbound",) or ("inbound", "outbound")
    custom_parameters: dict[str, str] = field(default_factory=dict)
    sample_rate: int = 8000


@dataclass(frozen=True, slots=True)
class AgentAudio:
    """Audio the application sent, as 8 kHz 16-bit PCM."""

    pcm: bytes


@dataclass(frozen=True, slots=True)
class AgentMark:
    name: str


@dataclass(frozen=True, slots=True)
class AgentClear:
    pass


AgentMessage = AgentAudio | AgentMark | AgentClear


class ProtocolError(ValueError):
    """The application sent a message the protocol does not allow (the reason names the field)."""


class Framing(Protocol):
    """One stream's messages in one protocol (it keeps the stream's sequence number and resampling state)."""

    def opening(self) -> list[str]:
        """The frames sent once connected (`connected`, `start`)."""

    def media(self, track: str, pcm: bytes, chunk: int, timestamp_ms: int) -> str:
        """One 20 ms chunk of a track's audio."""

    def dtmf(self, digit: str) -> str:
        """A key the far end pressed."""

    def mark(self, name: str) -> str:
        """A mark the application sent, returned once the audio before it played (or was cleared)."""

    def closing(self) -> str:
        """The `stop` frame."""

    def parse(self, text: str) -> AgentMessage | None:
        """A frame from the application; None for ones that ask nothing (e.g. unknown events)."""


def load(text: str) -> dict[str, Any]:
    """A JSON object frame; ProtocolError otherwise."""
    try:
        message = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"frame is not JSON ({exc})") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    return message


def dump(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def mark_name(message: dict[str, Any]) -> str:
    mark = message.get("mark")
    name = mark.get("name") if isinstance(mark, dict) else None
    if not isinstance(name, str) or not name or len(name) > 256:
        raise ProtocolError("mark.name must be a string of 1-256 characters")
    return name


def payload_bytes(message: dict[str, Any]) -> bytes:
    media = message.get("media")
    payload = media.get("payload") if isinstance(media, dict) else None
    if not isinstance(payload, str):
        raise ProtocolError("media.payload must be a base64 string")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("media.payload is not valid base64") from None
