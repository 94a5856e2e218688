"""The Network interface: what call control asks of a telephony backend, and the signals it reports.

A network places and ends calls; it never writes to the store or sends events. It reports what
happens as signals (`legato.domain.machine` inputs: Ringing, Answered, AmdResult, Ended, FailedToCreate, and
MediaEvent / MediaStats for what happens on a leg's audio)
through the `SignalSink` it was started with, always on the asyncio loop's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from legato.domain.machine import Input
from legato.media.base import MediaEngine

if TYPE_CHECKING:
    from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class DialRequest:
    """Everything a network needs to place one outbound call."""

    leg_sid: str
    account_sid: str
    destination: str  # E.164 for numbers, the URI for sip:
    destination_kind: str  # "number" | "sip"
    caller_id: str  # E.164 or sip: URI of the exophone
    amd_enable: bool = False
    dc_code: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboundCall:
    """An inbound call a network received; call control decides whose leg it becomes."""

    call_ref: str  # the network's handle for the call, used in answer()/reject()
    caller: str  # E.164 or SIP URI of the caller
    called: str  # E.164 or SIP URI dialled (an exophone)



class MediaCommand(Protocol):
    """An action on a connected leg's audio: one typed command per leg media action (app/actions/), which
    knows how the media engine does it (`run`, any network on network/media_session.py) and what the
    sandbox's simulated far end does (`simulate`). Both raise ValidationFailed (bad input) or Conflict.

    Results that take time come back as `MediaEvent` signals (play_completed, recording_completed,
    gather_completed, dtmf_received, digits_sent, stream_started, stream_stopped, transcription_completed)."""

    @property
    def kind(self) -> str:
        """The action's name (app/actions/registry.py)."""

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        """Do it in the media engine; the action's result (play_id, recording_id...)."""

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        """Do it on a sandbox leg (network/sandbox_leg.py); the same result."""


SignalSink = Callable[[str, Input], None]
"""`sink(leg_sid, signal)`: deliver a network signal for a leg."""

InboundHandler = Callable[[InboundCall], "str | None"]
"""Returns the new leg_sid, or None to refuse the call (unknown number: 404)."""


class Network(Protocol):
    """A telephony backend. Every method is called on the asyncio loop and must not block."""

    name: str
    confirms_hangup: bool
    """True when it reports HangupSent or HangupFailed after every BYE/CANCEL (the leg's end waits for it)."""

    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        """Begin operating; report signals through `signals`, inbound calls through `inbound`."""

    async def stop(self) -> None:
        """Stop, ending every call still up."""

    def dial(self, request: DialRequest) -> None:
        """Place an outbound call; its progress arrives later as signals."""

    def cancel(self, leg_sid: str) -> None:
        """Abandon a call not yet answered (CANCEL); HangupSent/HangupFailed follow when it confirms."""

    def bye(self, leg_sid: str) -> None:
        """End an answered call (BYE); no signal is expected back."""

    def answer(self, leg_sid: str) -> None:
        """Answer an inbound ringing call (200 with SDP)."""

    def reject(self, leg_sid: str, sip_code: int) -> None:
        """Refuse an inbound ringing call with a final response (486, 603, 480...)."""

    def attach_leg(self, call_ref: str, leg_sid: str) -> None:
        """Bind an inbound call (by the network's ref) to the leg created for it."""

    def trunk_for(self, destination_kind: str, caller_id: str) -> str:
        """The trunk (carrier route) a call would take: the key of the operator's per-trunk cps limits."""

    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Act on a connected leg's audio; raises ValidationFailed (bad input) or Conflict (cannot now)."""


@runtime_checkable
class Bridging(Protocol):
    """Optional part of a Network: connect the media of legs call control has bridged.

    Call control calls `bridge` once a bridge is recorded and `unbridge` when it ends; a network
    without these methods simply carries no bridged audio (the sandbox has nothing to connect)."""

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Connect the legs' media to each other."""

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Disconnect them (the legs that are still up stay up)."""


@runtime_checkable
class Transferring(Protocol):
    """Optional part of a Network: blind transfer of a connected leg (SIP REFER to its far end).

    Progress comes back as `TransferUpdate` signals: `failed` when the far end refuses the REFER or its
    NOTIFY reports a final failure, `completed` (after `answered`) when the target answered; the network
    then ends the leg's call on the machine's `bye`."""

    def refer(self, leg_sid: str, target: DialRequest) -> None:
        """Ask the leg's far end to call `target` (its destination and kind) instead of us."""


@runtime_checkable
class Conferencing(Protocol):
    """Optional part of a Network: mix the media of a conference's members.

    Call control calls `conference_mix` with every member (dicts with leg_sid, role, muted, hold,
    coach_leg_sid) whenever membership or a member's state changes, and `conference_end` once; that
    returns the recording (`file` under the recordings folder `record_folder`, `duration_ms`) when one
    was asked for, else None."""

    def conference_mix(self, conference_sid: str, members: list[dict[str, Any]], record_folder: str | None) -> None:
        """Mix these members from now on (the first call starts the conference's mix and recording)."""

    async def conference_end(self, conference_sid: str) -> dict[str, Any] | None:
        """Stop mixing (the legs stay up); finish and report the recording."""


@runtime_checkable
class ConferenceTones(Protocol):
    """Optional part of a conferencing Network: notification tones played into a conference's mix.

    Call control calls `conference_beep` after the membership change the tone announces (a participant with
    Twilio's `beep` entered or left); every member that is not held hears it, and a recording holds it."""

    def conference_beep(self, conference_sid: str, kind: str) -> None:
        """Play the `enter` (rising) or `exit` (falling) tone into the conference, after its last mix change."""
