"""What a leg's media core (media/channel_core.py) asks its adapter to do: packets to send, notifications to
report, recordings to write and speech to recognise (each off the media loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato.media.gather import SpeechOptions

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Datagram:
    """A packet to send: RTP from the leg's port, or RTCP from the port above it."""

    data: bytes
    addr: Address
    rtcp: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification to report (base.* names)."""

    name: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordingDone:
    """A finished recording: write `pcm` to `path` (off the media loop), then report `result`."""

    path: Path
    pcm: bytes
    result: dict[str, Any] = field(default_factory=dict)
    transcribe: bool = False  # then recognise `pcm` and report transcription_completed


@dataclass(frozen=True, slots=True)
class Recognise:
    """A gather ended on speech: recognise `pcm` (off the media loop), then report gather_completed with
    `result` plus speech_result and confidence."""

    pcm: bytes
    options: SpeechOptions
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AmdWords:
    """AMD asks what the greeting so far says: spot its phrases in `pcm` (off the media loop), then hand the
    text to ChannelCore.amd_heard."""

    pcm: bytes


Event = Notice | RecordingDone | Recognise | AmdWords
