"""Transfers of a connected leg, as the leg machine sees them (its `Transfer` and `TransferUpdate` handlers).

A leg has at most one transfer at a time, kept in `leg.extra["transfer"]` until it ends. Its events
(`transfer_answered`, `transfer_completed`, `transfer_failed`, type `leg_action_event`) are in the leg's own
sequence and go to the transfer's `transfer_event_endpoint` when it gave one (else the leg's endpoint).

| mode     | outcome   | events                                  | the leg                                  |
|----------|-----------|-----------------------------------------|------------------------------------------|
| blind    | completed | transfer_answered, transfer_completed   | ends: completed, cause `transferred`     |
| attended | answered  | transfer_answered                       | stays (the engine bridges it)            |
| attended | completed | transfer_completed                      | stays, bridged with the new leg          |
| any      | failed    | transfer_failed (error: code, reason)   | stays connected, as before the transfer  |

A leg that ends while its transfer runs sends `transfer_failed` (reason `leg_ended`) before `leg_terminated`; a
blind transfer without a final answer from the far end within BLIND_WAIT s fails (reason `transfer_timeout`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Protocol

from legato.domain import causes
from legato.domain.effects import ACTION, CancelTimer, Effect, Emit, NetworkCommand, StartTimer
from legato.domain.errors import Conflict
from legato.domain.inputs import Transfer, TransferUpdate
from legato.domain.leg import HangupSource, Leg, LegState, TerminalStatus


class LegMachine(Protocol):
    """What these handlers use of `machine.py` `LegMachine` (a protocol, so this module does not import it)."""

    leg: Leg

    def _hang_up(self, command: str, now: datetime, status: TerminalStatus, q850: int, cause: str | None,
                 source: HangupSource, *, confirm: bool | None = None) -> list[Effect]: ...

TRANSFER_KEY: Final = "transfer"  # leg.extra: the transfer in progress
TRANSFERRED_FROM_KEY: Final = "transferred_from"  # leg.extra of an attended transfer's new leg: the leg transferred
TRANSFERRED: Final = "transferred"  # hangup_cause of a leg whose far end took a blind transfer
MODES: Final = ("blind", "attended")
TRANSFER_TIMER: Final = "transfer_timeout"  # a blind transfer with no final answer from the far end fails then
BLIND_WAIT: Final = 60.0  # seconds a blind transfer may take (REFER, the target rings and answers)


def on_transfer(machine: LegMachine, event: Transfer, now: datetime) -> list[Effect]:
    """Start a transfer: blind sends the REFER; attended waits for the engine's new leg."""
    leg = machine.leg
    if leg.state is not LegState.CONNECTED:
        raise Conflict(f"transfer needs a connected leg (this one is {leg.state})", field="action")
    current = leg.extra.get(TRANSFER_KEY)
    if current is not None:
        raise Conflict(f"leg {leg.leg_sid} is already being transferred to {current['to']}", field="action")
    leg.extra[TRANSFER_KEY] = {
        "to": event.to,
        "mode": event.mode,
        "endpoint": event.endpoint,
        "transfer_leg_sid": event.transfer_leg_sid,
        "destination": event.destination or event.to,
        "destination_kind": event.destination_kind,
    }
    leg.date_updated = now
    return [NetworkCommand("refer"), StartTimer(TRANSFER_TIMER, BLIND_WAIT)] if event.mode == "blind" else []


def on_transfer_update(machine: LegMachine, event: TransferUpdate, now: datetime) -> list[Effect]:
    """Report how the transfer goes; a blind transfer the far end took ends the leg."""
    leg = machine.leg
    transfer = leg.extra.get(TRANSFER_KEY)
    if transfer is None or leg.state is not LegState.CONNECTED:
        return []
    if event.outcome == "answered":
        if transfer.get("answered"):
            return []
        transfer["answered"] = True
        return [_emit("transfer_answered", transfer, event)]
    del leg.extra[TRANSFER_KEY]
    leg.date_updated = now
    if event.outcome == "withdrawn":  # never started (the new leg could not be dialled): no event
        return [CancelTimer(TRANSFER_TIMER)]
    if event.outcome == "failed":
        return [CancelTimer(TRANSFER_TIMER), failed(transfer, event)]
    effects: list[Effect] = [CancelTimer(TRANSFER_TIMER)]
    if not transfer.get("answered"):
        effects.append(_emit("transfer_answered", transfer, event))
    effects.append(_emit("transfer_completed", transfer, event))
    if transfer["mode"] == "blind":
        effects += machine._hang_up(
            "bye", now, TerminalStatus.COMPLETED, causes.NORMAL_CLEARING, TRANSFERRED, HangupSource.PLATFORM
        )
    return effects


def abandon(machine: LegMachine) -> list[Effect]:
    """The leg is ending with its transfer still running: `transfer_failed`, reason leg_ended."""
    transfer = machine.leg.extra.pop(TRANSFER_KEY, None)
    if transfer is None:
        return []
    return [
        CancelTimer(TRANSFER_TIMER),
        failed(transfer, TransferUpdate("failed", reason="leg_ended", q850=causes.NORMAL_CLEARING)),
    ]


def failed(transfer: dict[str, Any], event: TransferUpdate) -> Emit:
    code = event.q850 or (causes.q850_from_sip(event.sip_code) if event.sip_code else causes.TEMPORARY_FAILURE)
    error = {
        "error_code": code,
        "message": event.reason or "transfer_failed",
        "description": f"transfer to {transfer['to']} failed: {event.reason or 'no reason given'}"
        + (f" (SIP {event.sip_code})" if event.sip_code else ""),
    }
    return _emit("transfer_failed", transfer, event, error)


def _emit(name: str, transfer: dict[str, Any], event: TransferUpdate, error: dict[str, object] | None = None) -> Emit:
    data: dict[str, object] = {
        "transfer_to": transfer["to"],
        "transfer_destination": transfer["destination"],
        "transfer_mode": transfer["mode"],
    }
    if transfer.get("transfer_leg_sid"):
        data["transfer_leg_sid"] = transfer["transfer_leg_sid"]
    if event.sip_code is not None:
        data["sip_code"] = event.sip_code
    if event.reason is not None:
        data["reason"] = event.reason
    return Emit(name, ACTION, error=error, data=data, endpoint=transfer.get("endpoint"))
