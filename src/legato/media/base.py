"""The media interface call control talks to, whatever the backend (Legato's engine, rtpengine later)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from legato.media.amd_params import AmdParams
from legato.media.rtcp import ReceiverStats

RecordDirection = Literal["in", "out", "both"]

# Notification names (MediaNotification.name) and what `data` holds:
AMD_RESULT = "amd_result"  # AmdVerdict.to_dict(): answered_by, reason, decision_ms, figures
DTMF_RECEIVED = "dtmf_received"  # digit, source ("rfc4733" | "inband")
PLAY_COMPLETED = "play_completed"  # play_id, reason ("finished" | "stopped" | "released" | "error")
RECORDING_COMPLETED = "recording_completed"  # recording_id, path, duration_ms, direction, reason
GATHER_COMPLETED = "gather_completed"  # digits, reason ("num_digits" | "finish_on_key" | "timeout" | "speech"
# | ...); with reason "speech" also speech_result, confidence (and speech_error when recognition failed)
TRANSCRIPTION_COMPLETED = "transcription_completed"  # recording_id, path, status, text, confidence (error)
DIGITS_SENT = "digits_sent"  # digits
STREAM_STARTED = "stream_started"  # stream_sid: its WebSocket is up (connected and start were sent)
STREAM_STOPPED = "stream_stopped"  # stream_sid, reason (requested|hangup|remote_closed|error|unreachable), message


class MediaError(Exception):
    """A media command failed; `code` is stable (no_ports, unknown_leg, bad_request, conflict, failed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Allocation:
    """A leg's local RTP endpoint, as the SDP offer/answer needs it."""

    leg_id: str
    address: str
    port: int
    rtcp_port: int
    payload_types: tuple[int, ...] = (0, 8)  # PCMU, PCMA in preference order
    telephone_event_pt: int = 101
    ptime: int = 20

    def to_dict(self) -> dict[str, Any]:
        return {"leg_id": self.leg_id, "address": self.address, "port": self.port,
                "rtcp_port": self.rtcp_port, "payload_types": list(self.payload_types),
                "telephone_event_pt": self.telephone_event_pt, "ptime": self.ptime}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Allocation:
        return cls(leg_id=data["leg_id"], address=data["address"], port=data["port"],
                   rtcp_port=data["rtcp_port"], payload_types=tuple(data["payload_types"]),
                   telephone_event_pt=data["telephone_event_pt"], ptime=data["ptime"])


@dataclass(frozen=True, slots=True)
class RemoteMedia:
    """Where and how to send a leg's audio, as the far end's media description (its SDP) says."""

    address: str
    port: int
    payload_type: int  # 0 PCMU or 8 PCMA: the first G.711 format of the m= line
    telephone_event_pt: int | None


@dataclass(frozen=True, slots=True)
class MediaNotification:
    """Something that happened on a leg's media, reported asynchronously."""

    name: str
    leg_id: str
    data: dict[str, Any] = field(default_factory=dict)


NotificationSink = Callable[[MediaNotification], None]


class MediaEngine(Protocol):
    """What call control asks of a media backend. Every method is a coroutine on the caller's loop.

    Legs are named by the caller's id (the leg_sid). Failures raise MediaError. Results that take
    time (verdicts, digits, end of a prompt or a recording) arrive as MediaNotification through the
    sink given to `start`.
    """

    async def start(self, notify: NotificationSink) -> None:
        """Connect to the backend; report notifications through `notify`."""

    async def close(self) -> None:
        """Disconnect (the backend releases the legs this client held)."""

    async def allocate(self, leg_id: str) -> Allocation:
        """Reserve an RTP/RTCP port pair for a leg; raises MediaError('no_ports') when none is free."""

    async def set_remote(self, leg_id: str, address: str, port: int, payload_type: int,
                         telephone_event_pt: int | None = 101) -> None:
        """Apply the far end's SDP: where to send and which codec (0 PCMU, 8 PCMA)."""

    async def release(self, leg_id: str) -> ReceiverStats | None:
        """Free the leg's ports, ending what runs on it; returns its receiver figures."""

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        """Forward each leg's received audio (and telephone-events) to the other."""

    async def unbridge(self, leg_id: str) -> None:
        """Stop forwarding between a leg and its bridge peer."""

    async def conference_set(self, conference_id: str, members: list[dict[str, Any]],
                             record_folder: str | None = None) -> None:
        """Mix these members (leg_id, role, muted, hold, coach_of); the first call starts the conference."""

    async def conference_end(self, conference_id: str) -> dict[str, Any]:
        """Stop mixing; returns steps and late_steps, and the recording (file, path, duration_ms) if any."""

    async def conference_beep(self, conference_id: str, kind: str) -> None:
        """Play the conference's `enter` or `exit` tone into its mix (every member not held hears it)."""

    async def play(self, leg_id: str, path: str, loop: int = 1) -> str:
        """Queue a WAV file to be played to the leg `loop` times (0 = until stopped); returns a play id."""

    async def say(self, leg_id: str, text: str, voice: str = "en-us", rate: int = 160) -> str:
        """Queue text spoken by espeak-ng; returns a play id."""

    async def stop_play(self, leg_id: str) -> None:
        """Stop the prompt playing and drop the queued ones."""

    async def start_recording(self, leg_id: str, direction: RecordDirection = "both",
                              folder: str | None = None, transcribe: bool = False,
                              beep: bool = False) -> dict[str, Any]:
        """Start recording to a WAV file; returns recording_id and path (transcribe: transcription_completed
        follows recording_completed; beep: a short 1 kHz tone first, the recording starts after it)."""

    async def stop_recording(self, leg_id: str) -> dict[str, Any]:
        """Stop recording; returns path and duration_ms (recording_completed is also sent)."""

    async def gather(self, leg_id: str, num_digits: int | None = None, timeout: float = 5.0,  # noqa: ASYNC109
                     finish_on_key: str | None = "#", input: str = "dtmf",
                     speech: dict[str, Any] | None = None, silence_timeout: float | None = None) -> None:
        """Collect digits (RFC 4733 or in-band) and/or speech (`speech`: speech_timeout, hints, language);
        gather_completed reports them (reason silence: `silence_timeout` s passed without voice or a key)."""

    async def send_digits(self, leg_id: str, digits: str, duration_ms: int = 100) -> None:
        """Send digits to the leg as RFC 4733 telephone-events."""

    async def mute(self, leg_id: str) -> None:
        """Stop forwarding what this leg says to its bridge peer."""

    async def unmute(self, leg_id: str) -> None:
        """Undo mute."""

    async def hold(self, leg_id: str) -> None:
        """Stop all bridge audio to and from this leg."""

    async def unhold(self, leg_id: str) -> None:
        """Undo hold."""

    async def start_amd(self, leg_id: str, params: AmdParams | None = None) -> None:
        """Run answering-machine detection on the leg's received audio; amd_result reports verdicts."""

    async def start_stream(self, leg_id: str, spec: dict[str, Any]) -> None:
        """Stream the leg's audio to a WebSocket (media/commands.py StartStream's fields without leg_id);
        stream_started / stream_stopped report how it goes."""

    async def stop_stream(self, leg_id: str, stream_sid: str) -> None:
        """End a stream (`stop` is sent, then the WebSocket closes)."""
