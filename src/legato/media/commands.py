"""The media engine's control commands, declared once: the client sends them, the engine handles them.

Each command is a frozen dataclass whose fields are its JSON arguments; `COMMANDS` maps the wire name
to the class. Adding a command: a class here, its name in `COMMANDS`, a handler in core.py
(`MediaCore.handlers`) and, when call control needs it, a method on `MediaEngine`/`MediaClient`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Command:
    name: ClassVar[str]

    def args(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Ping(Command):
    name: ClassVar[str] = "ping"


@dataclass(frozen=True, slots=True)
class LegCommand(Command):
    """A command about one leg."""

    leg_id: str


@dataclass(frozen=True, slots=True)
class Allocate(LegCommand):
    name: ClassVar[str] = "allocate"
    inband_dtmf: bool = False


@dataclass(frozen=True, slots=True)
class SetRemote(LegCommand):
    name: ClassVar[str] = "set_remote"
    address: str
    port: int
    payload_type: int
    telephone_event_pt: int | None = 101


@dataclass(frozen=True, slots=True)
class Bridge(Command):
    name: ClassVar[str] = "bridge"
    leg_a: str
    leg_b: str


@dataclass(frozen=True, slots=True)
class Play(LegCommand):
    name: ClassVar[str] = "play"
    path: str
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Say(LegCommand):
    name: ClassVar[str] = "say"
    text: str
    voice: str = "en-us"
    rate: int = 160
    loop: int = 1


@dataclass(frozen=True, slots=True)
class StartRecording(LegCommand):
    name: ClassVar[str] = "start_recording"
    direction: str = "both"
    folder: str | None = None
    transcribe: bool = False
    beep: bool = False  # a short 1 kHz tone to the leg first; the recording starts after it


@dataclass(frozen=True, slots=True)
class Gather(LegCommand):
    name: ClassVar[str] = "gather"
    num_digits: int | None = None
    timeout: float = 5.0
    finish_on_key: str | None = "#"
    input: str = "dtmf"  # dtmf | speech | dtmf speech
    speech: dict[str, Any] | None = None  # speech_timeout (seconds, None: auto), hints, language
    silence_timeout: float | None = None  # also ends (reason silence) after this many seconds without voice or key


@dataclass(frozen=True, slots=True)
class SendDigits(LegCommand):
    name: ClassVar[str] = "send_digits"
    digits: str
    duration_ms: int = 100


@dataclass(frozen=True, slots=True)
class StartAmd(LegCommand):
    name: ClassVar[str] = "start_amd"
    params: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ConferenceSet(Command):
    """Mix these members (dicts: leg_id, role, muted, hold, coach_of); the first call starts the mix."""

    name: ClassVar[str] = "conference_set"
    conference_id: str
    members: list[dict[str, Any]]
    record_folder: str | None = None  # record the room's mix to <folder>/<conference_id>.wav


@dataclass(frozen=True, slots=True)
class ConferenceEnd(Command):
    """Stop mixing; answers the steps mixed and late, the seconds mixed, and the recording (file, path,
    duration_ms) if any."""

    name: ClassVar[str] = "conference_end"
    conference_id: str


@dataclass(frozen=True, slots=True)
class ConferenceBeep(Command):
    """Play the conference's notification tone into its mix: `enter` (rising) or `exit` (falling)."""

    name: ClassVar[str] = "conference_beep"
    conference_id: str
    kind: str = "enter"


@dataclass(frozen=True, slots=True)
class StartStream(LegCommand):
    """Stream the leg's audio to `url`, connecting to `address` (checked by the caller); see media/stream/."""

    name: ClassVar[str] = "start_stream"
    stream_sid: str
    url: str
    address: str
    account_sid: str
    protocol: str = "twilio"
    track: str = "inbound"
    bidirectional: bool = False
    custom_parameters: dict[str, str] | None = None
    sample_rate: int = 8000
    headers: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class StopStream(LegCommand):
    name: ClassVar[str] = "stop_stream"
    stream_sid: str


def _leg_only(name: str) -> type[LegCommand]:
    """A command whose only argument is the leg."""
    return type(name.title().replace("_", ""), (LegCommand,), {"__slots__": (), "name": name})


Release, Unbridge, StopPlay, StopRecording = (_leg_only(n) for n in ("release", "unbridge", "stop_play",
                                                                    "stop_recording"))
Mute, Unmute, Hold, Unhold = (_leg_only(n) for n in ("mute", "unmute", "hold", "unhold"))


COMMANDS: dict[str, type[Command]] = {cls.name: cls for cls in (
    Ping, Allocate, SetRemote, Release, Bridge, Unbridge, Play, Say, StopPlay, StartRecording, StopRecording,
    Gather, SendDigits, Mute, Unmute, Hold, Unhold, StartAmd, ConferenceSet, ConferenceEnd, ConferenceBeep,
    StartStream, StopStream)}


def parse(name: str, args: dict[str, Any]) -> Command:
    """The command named `name` with `args`; ValueError names what is wrong (unknown or bad arguments)."""
    cls = COMMANDS.get(name)
    if cls is None:
        raise ValueError(f"unknown command {name!r}")
    try:
        return cls(**args)
    except TypeError as exc:
        raise ValueError(f"{name}: {exc}") from exc
