"""The media engine's control commands, declared once: the client sends them, the engine handles them.

Each command is a frozen dataclass whose fields are its JSON arguments; `COMMANDS` maps the wire name
to the class. Adding a command: a class here, its name in `COMMANDS`, a handler in engine.py
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
class Allocate(Command):
    name: ClassVar[str] = "allocate"
    leg_id: str
    inband_dtmf: bool = False


@dataclass(frozen=True, slots=True)
class SetRemote(Command):
    name: ClassVar[str] = "set_remote"
    leg_id: str
    address: str
    port: int
    payload_type: int
    telephone_event_pt: int | None = 101


@dataclass(frozen=True, slots=True)
class Release(Command):
    name: ClassVar[str] = "release"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Bridge(Command):
    name: ClassVar[str] = "bridge"
    leg_a: str
    leg_b: str


@dataclass(frozen=True, slots=True)
class Unbridge(Command):
    name: ClassVar[str] = "unbridge"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Play(Command):
    name: ClassVar[str] = "play"
    leg_id: str
    path: str
    loop: int = 1


@dataclass(frozen=True, slots=True)
class Say(Command):
    name: ClassVar[str] = "say"
    leg_id: str
    text: str
    voice: str = "en-us"
    rate: int = 160
    loop: int = 1


@dataclass(frozen=True, slots=True)
class StopPlay(Command):
    name: ClassVar[str] = "stop_play"
    leg_id: str


@dataclass(frozen=True, slots=True)
class StartRecording(Command):
    name: ClassVar[str] = "start_recording"
    leg_id: str
    direction: str = "both"
    folder: str | None = None


@dataclass(frozen=True, slots=True)
class StopRecording(Command):
    name: ClassVar[str] = "stop_recording"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Gather(Command):
    name: ClassVar[str] = "gather"
    leg_id: str
    num_digits: int | None = None
    timeout: float = 5.0
    finish_on_key: str | None = "#"


@dataclass(frozen=True, slots=True)
class SendDigits(Command):
    name: ClassVar[str] = "send_digits"
    leg_id: str
    digits: str
    duration_ms: int = 100


@dataclass(frozen=True, slots=True)
class Mute(Command):
    name: ClassVar[str] = "mute"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Unmute(Command):
    name: ClassVar[str] = "unmute"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Hold(Command):
    name: ClassVar[str] = "hold"
    leg_id: str


@dataclass(frozen=True, slots=True)
class Unhold(Command):
    name: ClassVar[str] = "unhold"
    leg_id: str


@dataclass(frozen=True, slots=True)
class StartAmd(Command):
    name: ClassVar[str] = "start_amd"
    leg_id: str
    params: dict[str, Any] | None = None


COMMANDS: dict[str, type[Command]] = {cls.name: cls for cls in (
    Ping, Allocate, SetRemote, Release, Bridge, Unbridge, Play, Say, StopPlay, StartRecording, StopRecording,
    Gather, SendDigits, Mute, Unmute, Hold, Unhold, StartAmd)}


def parse(name: str, args: dict[str, Any]) -> Command:
    """The command named `name` with `args`; ValueError names what is wrong (unknown or bad arguments)."""
    cls = COMMANDS.get(name)
    if cls is None:
        raise ValueError(f"unknown command {name!r}")
    try:
        return cls(**args)
    except TypeError as exc:
        raise ValueError(f"{name}: {exc}") from exc
