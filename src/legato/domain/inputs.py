"""What the leg machine is fed: network signals, timers, application and engine commands (immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from legato.domain import causes
from legato.domain.leg import AnsweredBy, HangupSource


# ---- inputs -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Enqueue:
    """CPS control holds the leg until a slot frees; after `max_wait` seconds (if given) the leg fails."""

    max_wait: float | None = None


@dataclass(frozen=True, slots=True)
class Start:
    """Place the outbound call now."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """An inbound call arrived and is ringing at Legato."""


@dataclass(frozen=True, slots=True)
class Ringing:
    """The far end is alerting (180, or 183 with early media)."""

    early_media: bool = False


@dataclass(frozen=True, slots=True)
class Answered:
    """The far end answered (200 OK); `sdp` is its answer, kept on the leg."""

    sdp: str | None = None


@dataclass(frozen=True, slots=True)
class AmdResult:
    """The answering-machine detector reached a verdict; the figures are the detector's, when it has them
    (milliseconds from the start of analysis, words counted in the greeting)."""

    answered_by: AnsweredBy
    decision_ms: int | None = None
    initial_silence_ms: int | None = None
    greeting_ms: int | None = None
    words: int | None = None
    confidence: float | None = None  # 0.5 (a guess) .. 1.0 (clear)
    reason: str | None = None  # what decided it (e.g. LONGGREETING, WORDS, SHORTANSWER, BEEP)

    def figures(self) -> dict[str, object]:
        """The verdict and the figures the detector gave, for the leg and its events."""
        found = {"answered_by": self.answered_by.value, "decision_ms": self.decision_ms,
                 "initial_silence_ms": self.initial_silence_ms, "greeting_ms": self.greeting_ms,
                 "words": self.words, "confidence": self.confidence, "reason": self.reason}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True, slots=True)
class MediaEvent:
    """Something happened on a live leg's audio (play_completed, recording_completed, gather_completed,
    dtmf_received, digits_sent, stream_started, stream_stopped, transcription_completed): reported as a
    leg_action_event with `data`; the state is untouched. `recording_completed`, `transcription_completed` and
    `stream_stopped` may arrive after the leg ended (the recording and the stream close with the call)."""

    name: str
    data: dict[str, object]


@dataclass(frozen=True, slots=True)
class MediaStats:
    """The leg's audio receiver figures (packets, loss, jitter), reported when its media is released."""

    stats: dict[str, object]


@dataclass(frozen=True, slots=True)
class Ended:
    """The network ended the call: a final failure response, or a BYE/CANCEL from the far end."""

    sip_code: int | None = None
    q850: int | None = None
    reason: str | None = None
    source: HangupSource = HangupSource.CALLEE


@dataclass(frozen=True, slots=True)
class HangupFailed:
    """The network could not send the BYE or CANCEL of a leg ended on our side, even after retrying:
    the far end may still be up. Reported as `leg_hangup_failed`, then `leg_terminated` (hangup_cause
    `hangup_failed`) when the leg was waiting for it; after `leg_terminated` on networks that do not confirm."""

    message: str


@dataclass(frozen=True, slots=True)
class HangupSent:
    """The network sent the BYE or CANCEL of a leg ended on our side: the end can be reported now."""


@dataclass(frozen=True, slots=True)
class TimerFired:
    name: str


@dataclass(frozen=True, slots=True)
class Hangup:
    """The application (or the operator) asks to end the leg; `reason` applies to inbound ringing legs,
    `cause` is the hangup_cause recorded for the others."""

    reason: str | None = None
    cause: str = "hangup_requested"


@dataclass(frozen=True, slots=True)
class Answer:
    """The application answers an inbound ringing leg."""


@dataclass(frozen=True, slots=True)
class FailedToCreate:
    """The network could not even start the call (no route, bad trunk, no port)."""

    message: str
    q850: int = causes.TEMPORARY_FAILURE


@dataclass(frozen=True, slots=True)
class JoinBridge:
    """The leg joins a bridge and, with it, the bridge's call (`call_sid`)."""

    bridge_sid: str
    call_sid: str


@dataclass(frozen=True, slots=True)
class LeaveBridge:
    """The leg leaves its bridge (the bridge was stopped or another of its legs ended)."""

    bridge_sid: str
    reason: str = "bridge_stopped"
    role: str = "initiator"  # initiator (the bridge's first leg) or target: which bridge_completed it gets
    ended_by_leg_sid: str | None = None


@dataclass(frozen=True, slots=True)
class Reconcile:
    """The process restarted while the leg was live: end it."""

    cause: str = "platform_restart"


@dataclass(frozen=True, slots=True)
class Shutdown:
    """The platform is stopping (drain timed out): end the leg now, telling the network (BYE, CANCEL, or
    503 to a ringing inbound call)."""

    cause: str = "platform_shutdown"


@dataclass(frozen=True, slots=True)
class Transfer:
    """The application transfers a connected leg to `to`: blind (SIP REFER to the far end) or attended (Legato
    dials `transfer_leg_sid` and bridges it with this leg when it answers). Events go to `endpoint` if set."""

    to: str
    mode: str = "blind"
    endpoint: str | None = None
    transfer_leg_sid: str | None = None
    destination: str | None = None  # `to` as the network dials it: E.164, or the sip: URI (default: `to`)
    destination_kind: str = "number"  # number | sip


@dataclass(frozen=True, slots=True)
class TransferUpdate:
    """How the leg's transfer goes: `answered` (the target answered), `completed` (the far end took the
    transfer, or the target is bridged), `failed` (refused, or the target did not answer), `withdrawn` (the
    attended transfer's new leg could not even be created: dropped without an event)."""

    outcome: str
    sip_code: int | None = None
    reason: str | None = None
    q850: int | None = None  # failed: the cause (else read from sip_code)


Input = (Enqueue | Start | Incoming | Ringing | Answered | AmdResult | Ended | TimerFired | Hangup | Answer
         | FailedToCreate | JoinBridge | LeaveBridge | Reconcile | MediaEvent | MediaStats | Shutdown
         | HangupFailed | HangupSent | Transfer | TransferUpdate)
AFTER_END = (MediaEvent, MediaStats, HangupFailed)  # inputs a terminal leg still takes
HANGUP_FAILED_KEY: Final = "hangup_failed"  # leg.extra: why the BYE/CANCEL of the leg could not be sent
HANGING_UP_KEY: Final = "hanging_up"  # leg.extra: the end it reports once its BYE/CANCEL is sent (or fails)
