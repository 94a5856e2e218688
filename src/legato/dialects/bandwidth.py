"""Bandwidth Voice callbacks: a leg event as the Bandwidth callback body (`eventType` ...).

Schema: `legato/schemas/bandwidth_callback.json`, written from Bandwidth's webhook reference and the
`bandwidth-sdk` models (see its description). The wire names are camelCase (`eventType`, `callId`,
`answerTime` ...); the SDK's snake_case attributes (`event_type`, `answer_time`) are the same fields.
Timestamps: RFC 3339 with milliseconds. Every Bandwidth call is one Legato leg: callId = leg_sid.

Events

| Legato event                         | Bandwidth eventType        | notes                              |
|--------------------------------------|----------------------------|------------------------------------|
| leg_incoming                         | initiate                   | inbound call arrived               |
| leg_answered                         | answer                     | with machineDetectionResult when   |
|                                      |                            | the AMD verdict is in (sync AMD)   |
| amd_result_success                   | machineDetectionComplete   | async AMD verdict                  |
| leg_terminated, leg_failed_to_create | disconnect                 | with cause, endTime                |
| transcription_completed              | transcriptionAvailable     | status completed only: recordingId,|
|                                      |                            | mediaUrl (recording_url),          |
|                                      |                            | transcription {text, confidence};  |
|                                      |                            | a failed one has no callback       |
| leg_connecting, leg_ringing          | (none)                     | Bandwidth sends no callback while  |
|                                      |                            | an outbound call dials or rings    |
| bridge_completed                     | bridgeComplete             | the bridge's first leg (initiator) |
|                                      | bridgeTargetComplete       | its other legs (targets)           |
| transfer_answered                    | transferAnswer             | the transfer's target answered     |
| transfer_completed, transfer_failed  | transferComplete           | failed: with cause, errorMessage   |
| leg_terminated, leg_failed_to_create | transferDisconnect         | of a leg an attended transfer      |
|  of an attended transfer's new leg   |                            | dialled: parentCallId, cause       |

Fields

| Bandwidth      | Legato source                                                              |
|----------------|----------------------------------------------------------------------------|
| eventType      | table above                                                                |
| eventTime      | the event's timestamp                                                      |
| accountId      | account_sid                                                                |
| applicationId  | no Legato source (no application object): omitted                          |
| from, to       | E.164 of the calling / called party; a SIP party without a number: its URI |
| direction      | inbound / outbound                                                         |
| callId         | leg_sid                                                                    |
| callUrl        | no Legato source in pure code (needs the API base URL): omitted            |
| enqueuedTime   | not kept by Legato: omitted                                                |
| startTime      | start_time (else date_created)                                             |
| answerTime     | answer_time, on answer/machineDetectionComplete/disconnect once answered   |
| endTime        | end_time, on disconnect                                                    |
| cause          | disconnect only, table below                                               |
| errorMessage   | disconnect with a cause other than hangup: "<hangup_cause> (Q.850 <code>)" |
| errorId        | no Legato source: omitted                                                  |
| sipResponseCode| sip_response_code on disconnect when the network gave one                  |
| tag            | custom_param, when set                                                     |
| machineDetectionResult | {"value": human / answering-machine}; HUMAN -> human,              |
|                | MACHINE and BEEP -> answering-machine; duration has no source: omitted     |
| transferCallerId | transfer events: the B-leg's from: attended, the exophone; blind, the    |
|                | far end being transferred; transferDisconnect: the new leg's from          |
| transferTo     | transfer events: the target (E.164 or URI); transferDisconnect: its to     |
| parentCallId   | transferDisconnect: the leg that was transferred                           |
| cause (transferComplete of transfer_failed) | Q.850 17 busy, 18/19/102 timeout, 21 rejected, |
|                | 16 hangup (the leg ended first), else error; bridgeComplete: hangup        |

cause (disconnect)

| Legato terminal_status / cause                     | cause    |
|----------------------------------------------------|----------|
| completed                                          | hangup   |
| busy                                               | busy     |
| no-answer                                          | timeout  |
| canceled, inbound rejected by the application      | rejected |
| canceled, otherwise (hung up before answer)        | cancel   |
| failed with Q.850 21 (call rejected)               | rejected |
| failed, otherwise                                  | error    |
"""

from __future__ import annotations

from typing import Any

from legato.dialects.bandwidth_conferences import render_conference_event
from legato.dialects.dialect import Dialect
from legato.dialects.parties import parties
from legato.dialects.timestamps import rfc3339
from legato.domain import causes
from legato.domain.events import LegEvent
from legato.domain.leg import AnsweredBy, Direction, Leg, TerminalStatus
from legato.domain.transfer import TRANSFERRED_FROM_KEY

EVENT_TYPES: dict[str, str] = {
    "leg_incoming": "initiate",
    "leg_answered": "answer",
    "amd_result_success": "machineDetectionComplete",
    "leg_terminated": "disconnect",
    "leg_failed_to_create": "disconnect",
    "transfer_answered": "transferAnswer",
    "transfer_completed": "transferComplete",
    "transfer_failed": "transferComplete",
    "bridge_completed": "bridgeComplete",
    "transcription_completed": "transcriptionAvailable",
}
CAUSES: dict[TerminalStatus, str] = {
    TerminalStatus.COMPLETED: "hangup",
    TerminalStatus.BUSY: "busy",
    TerminalStatus.NO_ANSWER: "timeout",
    TerminalStatus.CANCELED: "cancel",
    TerminalStatus.FAILED: "error",
}
MACHINE_DETECTION: dict[AnsweredBy, str] = {
    AnsweredBy.HUMAN: "human",
    AnsweredBy.MACHINE: "answering-machine",
    AnsweredBy.BEEP: "answering-machine",
}
_ANSWERED_EVENTS = frozenset({"answer", "machineDetectionComplete", "disconnect", "transferAnswer",
                              "transferComplete", "transferDisconnect", "bridgeComplete", "bridgeTargetComplete"})
TRANSFER_CAUSES: dict[int, str] = {causes.USER_BUSY: "busy", causes.NO_USER_RESPONDING: "timeout",
                                   causes.NO_ANSWER: "timeout", causes.RECOVERY_ON_TIMER_EXPIRY: "timeout",
                                   causes.CALL_REJECTED: "rejected", causes.NORMAL_CLEARING: "hangup"}


def cause(leg: Leg) -> str:
    """The Bandwidth disconnect cause of an ended leg."""
    status = leg.terminal_status or TerminalStatus.FAILED
    rejected_inbound = leg.direction is Direction.INBOUND and (leg.hangup_cause or "").startswith("rejected")
    if status is TerminalStatus.CANCELED and rejected_inbound:
        return "rejected"
    if status is TerminalStatus.FAILED and leg.hangup_cause_code == causes.CALL_REJECTED:
        return "rejected"
    return CAUSES[status]


def _error_message(leg: Leg, fallback: str) -> str:
    text = leg.hangup_cause or fallback
    return text if leg.hangup_cause_code is None else f"{text} (Q.850 {leg.hangup_cause_code})"


def render_event(event: LegEvent, snapshot: Leg) -> dict[str, Any] | None:
    """The callback body for a leg event, or None when Bandwidth has no callback for it (not delivered)."""
    event_type = _event_type(event, snapshot)
    if event_type is None or (event_type == "transcriptionAvailable" and event.data.get("status") != "completed"):
        return None
    caller, called = parties(snapshot)
    body: dict[str, Any] = {
        "eventType": event_type,
        "eventTime": rfc3339(event.timestamp),
        "accountId": snapshot.account_sid,
        "from": caller.canonical,
        "to": called.canonical,
        "direction": snapshot.direction.value,
        "callId": snapshot.leg_sid,
    }
    body["startTime"] = rfc3339(snapshot.start_time or snapshot.date_created)
    if event_type in _ANSWERED_EVENTS and snapshot.answer_time is not None:
        body["answerTime"] = rfc3339(snapshot.answer_time)
    if event_type == "disconnect":
        body["endTime"] = rfc3339(snapshot.end_time or event.timestamp)
        body["cause"] = cause(snapshot)
        if body["cause"] != "hangup":
            body["errorMessage"] = _error_message(snapshot, body["cause"])
        if snapshot.sip_response_code is not None:
            body["sipResponseCode"] = snapshot.sip_response_code
    if event_type.startswith(("transfer", "bridge")):
        _transfer_and_bridge_fields(event_type, event, snapshot, body)
    if snapshot.custom_param is not None and event_type != "initiate":
        body["tag"] = snapshot.custom_param
    if event_type in ("answer", "machineDetectionComplete") and snapshot.answered_by is not None:
        body["machineDetectionResult"] = {"value": MACHINE_DETECTION[snapshot.answered_by]}
    if event_type == "transcriptionAvailable":
        body.update(_transcription(event.data))
    return body


def _event_type(event: LegEvent, snapshot: Leg) -> str | None:
    event_type = EVENT_TYPES.get(event.event_name)
    if event_type == "disconnect" and snapshot.extra.get(TRANSFERRED_FROM_KEY):
        return "transferDisconnect"
    if event_type == "bridgeComplete" and event.data.get("bridge_role") == "target":
        return "bridgeTargetComplete"
    return event_type


def _transfer_and_bridge_fields(event_type: str, event: LegEvent, snapshot: Leg, body: dict[str, Any]) -> None:
    """The fields transfer and bridge callbacks add to the common ones (tables at the top)."""
    if event_type == "bridgeComplete":
        body["cause"] = "hangup"
        return
    if event_type == "transferDisconnect":
        caller, called = parties(snapshot)
        body["parentCallId"] = snapshot.extra[TRANSFERRED_FROM_KEY]
        body["endTime"] = rfc3339(snapshot.end_time or event.timestamp)
        body["transferCallerId"], body["transferTo"] = caller.canonical, called.canonical
        body["cause"] = cause(snapshot)
        if body["cause"] != "hangup":
            body["errorMessage"] = _error_message(snapshot, body["cause"])
        return
    if event_type not in ("transferAnswer", "transferComplete"):
        return
    data = event.data
    attended = data.get("transfer_mode") == "attended"
    caller, called = parties(snapshot)
    ours, far = (caller, called) if snapshot.direction is Direction.OUTBOUND else (called, caller)
    body["transferCallerId"] = (ours if attended else far).canonical  # who the target sees calling
    body["transferTo"] = str(data.get("transfer_destination") or data.get("transfer_to"))
    if event.event_name == "transfer_failed":
        error = event.error or {}
        code = error.get("error_code")
        body["cause"] = TRANSFER_CAUSES.get(code, "error") if isinstance(code, int) else "error"
        body["errorMessage"] = str(error.get("description") or error.get("message") or "transfer failed")


def _transcription(data: dict[str, Any]) -> dict[str, Any]:
    """recordingId, mediaUrl and transcription of a transcription_completed event."""
    found: dict[str, Any] = {"transcription": {"text": str(data.get("text") or ""),
                                               "confidence": float(data.get("confidence") or 0.0)}}
    if isinstance(data.get("recording_id"), str):
        found["recordingId"] = data["recording_id"]
    if isinstance(data.get("recording_url"), str):
        found["mediaUrl"] = data["recording_url"]
    return found


DIALECT = Dialect("bandwidth", render_event=render_event,
                  render_conference_event=render_conference_event)  # conferences: bandwidth_conferences.py
