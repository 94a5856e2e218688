"""The leg state machine: a pure core fed with inputs (network signals, timers, commands).

Like aioquic's connection, it does no I/O. `LegMachine.handle(input, now)` mutates the leg
through `Leg.move_to` and returns effects for the engine to carry out: events to record,
timers to start or cancel, and commands for the network.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from legato.domain import causes
from legato.domain.effects import ACTION, LIFECYCLE, CancelTimer, Effect, Emit, NetworkCommand, StartTimer
from legato.domain.errors import Conflict
from legato.domain.inputs import (
    AFTER_END,
    HANGING_UP_KEY,
    HANGUP_FAILED_KEY,
    AmdResult,
    Answer,
    Answered,
    Ended,
    Enqueue,
    FailedToCreate,
    Hangup,
    HangupFailed,
    HangupSent,
    Incoming,
    Input,
    JoinBridge,
    LeaveBridge,
    MediaEvent,
    MediaStats,
    Reconcile,
    Ringing,
    Shutdown,
    Start,
    TimerFired,
    Transfer,
    TransferUpdate,
)
from legato.domain.leg import AnsweredBy, Direction, HangupSource, Leg, LegState, TerminalStatus
from legato.domain.transfer import TRANSFER_TIMER, abandon, on_transfer, on_transfer_update

__all__ = ["ACTION", "AFTER_END", "HANGUP_FAILED_KEY", "LIFECYCLE", "AmdResult", "Answer", "Answered", "CancelTimer",
           "Effect", "Emit", "Ended", "Enqueue", "FailedToCreate", "Hangup", "HangupFailed", "HangupSent", "Incoming",
           "Input", "JoinBridge", "LeaveBridge", "LegMachine", "MediaEvent", "MediaStats", "NetworkCommand",
           "Reconcile", "Ringing", "Shutdown", "Start", "StartTimer", "TimerFired", "Transfer", "TransferUpdate"]

# Timer names; the leg field of the same name (if any) gives the seconds.
SETUP = "setup_timeout"
RING = "ring_timeout"
ANSWER = "timeout"
TIME_LIMIT = "time_limit"
AMD_CAP = "amd_cap"
AMD_CAP_SECONDS = 10.0  # default cap on holding leg_answered for a sync AMD verdict
QUEUE = "queue_timeout"  # an enqueued leg waited too long for a CPS slot
HANGING_UP = "hangup_unconfirmed"  # the network never said whether the BYE/CANCEL went out
HANGUP_WAIT_SECONDS = 10.0  # longer than the network's own retries of a BYE/CANCEL
BRIDGE_KEY: Final = "bridge_sid"  # leg.extra key naming the bridge the leg is in
AMD_KEY: Final = "amd"  # leg.extra: the detector's figures for the verdict in answered_by
RTCP_KEY: Final = "rtcp"  # leg.extra: receiver figures (loss, jitter) of the leg's audio, once it ended
RECORDING_URL_KEY: Final = "recording_url"  # leg.extra: the latest recording of the leg (dialects render it)


_REJECT_REASONS = {"busy": (486, causes.USER_BUSY, TerminalStatus.BUSY),
                   "rejected": (603, causes.CALL_REJECTED, TerminalStatus.CANCELED)}


class LegMachine:
    """Drives one leg through its life. Inputs that make no sense any more are ignored."""

    __slots__ = ("amd_cap", "amd_pending", "confirm_hangup", "leg")

    def __init__(self, leg: Leg, amd_cap: float = AMD_CAP_SECONDS, *, confirm_hangup: bool = False) -> None:
        self.leg = leg
        self.confirm_hangup = confirm_hangup  # the network reports HangupSent/HangupFailed for our BYE/CANCEL
        self.amd_cap = amd_cap  # longest wait for a sync AMD verdict before leg_answered goes out anyway
        self.amd_pending = False  # sync AMD: answered, leg_answered held until the verdict

    def handle(self, event: Input, now: datetime) -> list[Effect]:
        """Feed one input; return the effects, in order."""
        leg = self.leg
        if leg.is_terminal:
            if isinstance(event, Hangup):
                raise Conflict("leg is already terminal", field="leg_sid")
            if isinstance(event, Answer | JoinBridge | Transfer):
                raise Conflict("leg is already terminal", field="leg_sid")
            if isinstance(event, Answered):
                return [NetworkCommand("bye")]  # a 200 that crossed our CANCEL: tear it down
            if isinstance(event, AFTER_END):
                return self._after_end(event, now)
            return []
        if HANGING_UP_KEY in leg.extra:
            return self._while_hanging_up(event, now)
        return HANDLERS[type(event)](self, event, now)

    # -- our own end, reported once the network sent it --
    def _hang_up(self, command: str, now: datetime, status: TerminalStatus, q850: int, cause: str | None,
                 source: HangupSource, *, confirm: bool | None = None) -> list[Effect]:
        """Send the BYE/CANCEL; end the leg now, or, on a network that confirms, once it was sent."""
        if not (self.confirm_hangup if confirm is None else confirm):
            return [NetworkCommand(command), *self._terminate(now, status, q850, cause, source)]
        self.leg.extra[HANGING_UP_KEY] = {"status": status.value, "q850": q850, "cause": cause,
                                          "source": source.value}
        return [NetworkCommand(command), StartTimer(HANGING_UP, HANGUP_WAIT_SECONDS)]

    def _while_hanging_up(self, event: Input, now: datetime) -> list[Effect]:
        """Our BYE/CANCEL is on its way: only its outcome (or anything that ends the call) ends the leg."""
        if isinstance(event, HangupFailed):
            self.leg.extra[HANGUP_FAILED_KEY] = event.message
            return [Emit("leg_hangup_failed", ACTION, error={"error_code": causes.TEMPORARY_FAILURE,
                                                             "message": "hangup_failed",
                                                             "description": event.message}),
                    *self._end_hanging_up(now, "hangup_failed")]
        if isinstance(event, HangupSent | Ended | Reconcile | Shutdown) or (
                isinstance(event, TimerFired) and event.name == HANGING_UP):
            return self._end_hanging_up(now)
        if isinstance(event, MediaEvent | MediaStats):
            return HANDLERS[type(event)](self, event, now)
        return []  # a second hangup, late ringing or answer: the end is already on its way

    def _end_hanging_up(self, now: datetime, cause: str | None = None) -> list[Effect]:
        end = self.leg.extra.pop(HANGING_UP_KEY)
        return [CancelTimer(HANGING_UP),
                *self._terminate(now, TerminalStatus(end["status"]), int(end["q850"]), cause or end["cause"],
                                 HangupSource(end["source"]))]

    def _on_hangup_sent(self, event: HangupSent, now: datetime) -> list[Effect]:
        return []  # only awaited while hanging up

    # -- outbound set-up --
    def _on_enqueue(self, event: Enqueue, now: datetime) -> list[Effect]:
        if self.leg.state is not LegState.CREATED:
            return []
        self.leg.move_to(LegState.ENQUEUED, now)
        return [StartTimer(QUEUE, event.max_wait)] if event.max_wait is not None else []

    def _on_start(self, event: Start, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state not in (LegState.CREATED, LegState.ENQUEUED):
            return []
        leg.move_to(LegState.CONNECTING, now)
        leg.start_time = now
        return [CancelTimer(QUEUE), Emit("leg_connecting"), StartTimer(SETUP, leg.setup_timeout),
                StartTimer(ANSWER, leg.timeout), NetworkCommand("dial")]

    def _on_incoming(self, event: Incoming, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state is not LegState.CREATED:
            return []
        leg.move_to(LegState.RINGING, now)
        leg.start_time = now
        return [Emit("leg_incoming"), StartTimer(RING, leg.ring_timeout)]

    def _on_ringing(self, event: Ringing, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state is not LegState.CONNECTING:
            return []  # late or repeated ringing changes nothing
        leg.move_to(LegState.RINGING, now)
        if event.early_media:
            leg.extra["early_media"] = True
        return [Emit("leg_ringing"), CancelTimer(SETUP), StartTimer(RING, leg.ring_timeout)]

    def _on_answered(self, event: Answered, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state not in (LegState.CONNECTING, LegState.RINGING) or leg.direction is Direction.INBOUND:
            return []
        if event.sdp is not None:
            leg.extra["answer_sdp"] = event.sdp
        return self._connect(now)

    def _connect(self, now: datetime) -> list[Effect]:
        leg = self.leg
        leg.move_to(LegState.CONNECTED, now)
        leg.answer_time = now
        effects: list[Effect] = [CancelTimer(SETUP), CancelTimer(RING), CancelTimer(ANSWER),
                                 StartTimer(TIME_LIMIT, leg.time_limit)]
        if leg.amd_enable and not leg.async_amd and leg.direction is Direction.OUTBOUND:
            self.amd_pending = True
            effects.append(StartTimer(AMD_CAP, self.amd_cap))
        else:
            effects.append(Emit("leg_answered"))
        return effects

    def _on_amd_result(self, event: AmdResult, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state is not LegState.CONNECTED or not leg.amd_enable:
            return []
        figures = event.figures()
        if self.amd_pending:
            self.amd_pending = False
            leg.answered_by = event.answered_by
            leg.extra[AMD_KEY] = figures
            leg.date_updated = now
            return [CancelTimer(AMD_CAP), Emit("leg_answered", data={AMD_KEY: figures})]
        # a beep after MACHINE, or after an unsure HUMAN when the detector listens on (beep_after_human_ms)
        if leg.answered_by is None or (leg.answered_by in (AnsweredBy.MACHINE, AnsweredBy.HUMAN)
                                       and event.answered_by is AnsweredBy.BEEP):
            leg.answered_by = event.answered_by
            leg.extra[AMD_KEY] = figures
            leg.date_updated = now
            return [Emit("amd_result_success", ACTION, data={AMD_KEY: figures})]
        return []

    # -- bridges --
    def _on_join_bridge(self, event: JoinBridge, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.state is not LegState.CONNECTED:
            raise Conflict(f"leg {leg.leg_sid} is {leg.state}; only connected legs can be bridged", field="leg_sids")
        current = leg.extra.get(BRIDGE_KEY)
        if current is not None:
            raise Conflict(f"leg {leg.leg_sid} is already in bridge {current}", field="leg_sids")
        leg.extra[BRIDGE_KEY] = event.bridge_sid
        leg.call_sid = event.call_sid
        leg.date_updated = now
        return [Emit("leg_joined_bridge", ACTION, data={"bridge_sid": event.bridge_sid})]

    def _on_leave_bridge(self, event: LeaveBridge, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.extra.get(BRIDGE_KEY) != event.bridge_sid:
            return []
        del leg.extra[BRIDGE_KEY]
        leg.date_updated = now
        completed = {"bridge_sid": event.bridge_sid, "reason": event.reason, "bridge_role": event.role,
                     "ended_by_leg_sid": event.ended_by_leg_sid}
        return [Emit("leg_left_bridge", ACTION, data={"bridge_sid": event.bridge_sid, "reason": event.reason}),
                Emit("bridge_completed", ACTION, data=completed)]

    # -- media --
    def _on_media_event(self, event: MediaEvent, now: datetime) -> list[Effect]:
        if self.leg.state is not LegState.CONNECTED:
            return []
        return self._after_end(event, now)

    def _on_media_stats(self, event: MediaStats, now: datetime) -> list[Effect]:
        return self._after_end(event, now)

    def _on_hangup_failed(self, event: HangupFailed, now: datetime) -> list[Effect]:
        return self._after_end(event, now)

    def _after_end(self, event: MediaEvent | MediaStats | HangupFailed, now: datetime) -> list[Effect]:
        leg = self.leg
        if isinstance(event, HangupFailed):
            leg.extra[HANGUP_FAILED_KEY] = event.message
            return [Emit("leg_hangup_failed", ACTION, error={"error_code": causes.TEMPORARY_FAILURE,
                                                             "message": "hangup_failed",
                                                             "description": event.message})]
        if isinstance(event, MediaStats):
            leg.extra[RTCP_KEY] = dict(event.stats)
            return []
        if leg.is_terminal and event.name not in ("recording_completed", "stream_stopped", "transcription_completed"):
            return []
        url = event.data.get(RECORDING_URL_KEY)
        if event.name == "recording_completed" and isinstance(url, str):
            leg.extra[RECORDING_URL_KEY] = url
        return [Emit(event.name, ACTION, data=dict(event.data))]

    # -- inbound --
    def _on_answer(self, event: Answer, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.direction is not Direction.INBOUND or leg.state is not LegState.RINGING:
            raise Conflict(f"only a ringing inbound leg can be answered (this one is {leg.direction} "
                           f"and {leg.state})", field="action")
        return [NetworkCommand("answer"), *self._connect(now)]

    # -- endings --
    def _on_ended(self, event: Ended, now: datetime) -> list[Effect]:
        leg = self.leg
        q850 = event.q850
        if leg.state is LegState.CONNECTED:
            code = q850 if q850 is not None else causes.NORMAL_CLEARING
            return self._terminate(now, TerminalStatus.COMPLETED, code, causes.q850_name(code), event.source,
                                   sip_code=event.sip_code, sip_reason=event.reason)
        if leg.direction is Direction.INBOUND:
            code = q850 if q850 is not None else causes.NORMAL_CLEARING
            return self._terminate(now, TerminalStatus.CANCELED, code, "caller_canceled", HangupSource.CALLER,
                                   sip_code=event.sip_code, sip_reason=event.reason)
        sip_code = event.sip_code or 500
        code = q850 if q850 is not None else causes.q850_from_sip(sip_code)
        status = TerminalStatus(causes.terminal_status_from_sip(sip_code))
        return self._terminate(now, status, code, causes.q850_name(code), event.source,
                               sip_code=event.sip_code, sip_reason=event.reason)

    def _on_timer_fired(self, event: TimerFired, now: datetime) -> list[Effect]:
        leg = self.leg
        name = event.name
        if name == AMD_CAP:
            if not self.amd_pending:
                return []
            self.amd_pending = False
            return [Emit("leg_answered")]
        if name == TRANSFER_TIMER:
            return on_transfer_update(self, TransferUpdate("failed", reason=TRANSFER_TIMER), now)
        if name == QUEUE and leg.state is LegState.ENQUEUED:
            return self._terminate(now, TerminalStatus.FAILED, causes.NO_CIRCUIT_AVAILABLE, QUEUE,
                                   HangupSource.PLATFORM)
        if name == TIME_LIMIT and leg.state is LegState.CONNECTED:
            return self._hang_up("bye", now, TerminalStatus.COMPLETED, causes.NORMAL_CLEARING, TIME_LIMIT,
                                 HangupSource.PLATFORM)
        if leg.state is LegState.CONNECTING and name in (SETUP, ANSWER):
            status = TerminalStatus.FAILED if name == SETUP else TerminalStatus.NO_ANSWER
            code = causes.RECOVERY_ON_TIMER_EXPIRY if name == SETUP else causes.NO_ANSWER
            return self._hang_up("cancel", now, status, code, name, HangupSource.PLATFORM)
        if leg.state is LegState.RINGING and name in (RING, ANSWER):
            if leg.direction is Direction.INBOUND:
                return [NetworkCommand("reject", 480),
                        *self._terminate(now, TerminalStatus.NO_ANSWER, causes.NO_USER_RESPONDING, name,
                                         HangupSource.PLATFORM)]
            return self._hang_up("cancel", now, TerminalStatus.NO_ANSWER, causes.NO_ANSWER, name,
                                 HangupSource.PLATFORM)
        return []

    def _on_hangup(self, event: Hangup, now: datetime) -> list[Effect]:
        return self._hang_up_ours(event, now, confirm=self.confirm_hangup)

    def _hang_up_ours(self, event: Hangup, now: datetime, *, confirm: bool) -> list[Effect]:
        leg = self.leg
        platform = HangupSource.PLATFORM
        if leg.state in (LegState.CREATED, LegState.ENQUEUED):
            return self._terminate(now, TerminalStatus.CANCELED, causes.NORMAL_CLEARING, event.cause, platform)
        if leg.state is LegState.CONNECTED:
            return self._hang_up("bye", now, TerminalStatus.COMPLETED, causes.NORMAL_CLEARING, event.cause, platform,
                                 confirm=confirm)
        if leg.direction is Direction.INBOUND:
            sip_code, q850, status = _REJECT_REASONS[event.reason or "rejected"]
            return [NetworkCommand("reject", sip_code),
                    *self._terminate(now, status, q850, f"rejected_{event.reason or 'rejected'}", platform)]
        return self._hang_up("cancel", now, TerminalStatus.CANCELED, causes.NORMAL_CLEARING, event.cause, platform,
                             confirm=confirm)

    def _on_failed_to_create(self, event: FailedToCreate, now: datetime) -> list[Effect]:
        effects = self._terminate(now, TerminalStatus.FAILED, event.q850, "failed_to_create", HangupSource.PLATFORM)
        error = {"error_code": event.q850, "message": "leg could not be created", "description": event.message}
        return [Emit("leg_failed_to_create", LIFECYCLE, error) if isinstance(e, Emit) and e.name == "leg_terminated"
                else e for e in effects]  # only the terminal event is renamed (not a held leg_answered)

    def _on_shutdown(self, event: Shutdown, now: datetime) -> list[Effect]:
        leg = self.leg
        if leg.direction is Direction.INBOUND and leg.state is LegState.RINGING:
            return [NetworkCommand("reject", 503),
                    *self._terminate(now, TerminalStatus.FAILED, causes.TEMPORARY_FAILURE, event.cause,
                                     HangupSource.PLATFORM)]
        return self._hang_up_ours(Hangup(cause=event.cause), now, confirm=False)  # stopping: end now

    def _on_reconcile(self, event: Reconcile, now: datetime) -> list[Effect]:
        return self._terminate(now, TerminalStatus.FAILED, causes.TEMPORARY_FAILURE, event.cause,
                               HangupSource.PLATFORM)

    def _terminate(self, now: datetime, status: TerminalStatus, q850: int, cause: str | None,
                   source: HangupSource, *, sip_code: int | None = None, sip_reason: str | None = None
                   ) -> list[Effect]:
        leg = self.leg
        effects: list[Effect] = abandon(self)
        if self.amd_pending:  # the answer happened; say so before the end
            self.amd_pending = False
            effects.append(Emit("leg_answered"))
        bridge_sid = leg.extra.pop(BRIDGE_KEY, None)
        if bridge_sid is not None:  # a leg that ends leaves its bridge first
            effects.append(Emit("leg_left_bridge", ACTION, data={"bridge_sid": bridge_sid, "reason": "leg_ended"}))
        leg.move_to(LegState.TERMINAL, now)
        leg.terminal_status = status
        leg.hangup_cause_code = q850
        leg.hangup_cause = cause
        leg.hangup_source = source
        leg.end_time = now
        if sip_code is not None:
            leg.sip_response_code = sip_code
            leg.sip_reason = sip_reason
        error = None
        if status is not TerminalStatus.COMPLETED:
            error = {"error_code": q850, "message": cause or status.value,
                     "description": f"leg ended {status.value}: {cause}"}
        effects += [CancelTimer(SETUP), CancelTimer(RING), CancelTimer(ANSWER), CancelTimer(TIME_LIMIT),
                    CancelTimer(AMD_CAP), CancelTimer(QUEUE), CancelTimer(HANGING_UP),
                    Emit("leg_terminated", LIFECYCLE, error)]
        return effects


Handler = Callable[[LegMachine, Any, datetime], list[Effect]]
HANDLERS: dict[type, Handler] = {
    Enqueue: LegMachine._on_enqueue, Start: LegMachine._on_start, Incoming: LegMachine._on_incoming,
    Ringing: LegMachine._on_ringing, Answered: LegMachine._on_answered, AmdResult: LegMachine._on_amd_result,
    JoinBridge: LegMachine._on_join_bridge, LeaveBridge: LegMachine._on_leave_bridge,
    MediaEvent: LegMachine._on_media_event, MediaStats: LegMachine._on_media_stats, Answer: LegMachine._on_answer,
    Ended: LegMachine._on_ended, TimerFired: LegMachine._on_timer_fired, Hangup: LegMachine._on_hangup,
    FailedToCreate: LegMachine._on_failed_to_create, Reconcile: LegMachine._on_reconcile,
    Shutdown: LegMachine._on_shutdown, HangupFailed: LegMachine._on_hangup_failed,
    HangupSent: LegMachine._on_hangup_sent,
    Transfer: on_transfer, TransferUpdate: on_transfer_update,
}
"""Which method handles each input (every input type has exactly one)."""
