"""The form parameters of flow requests, as Twilio sends them (Twilio's request signature: events/signature.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from legato.dialects.parties import Party, parties
from legato.domain.leg import AnsweredBy, Direction, Leg, LegState, TerminalStatus
from legato.events.signature import twilio_signature

API_VERSION = "2010-04-01"
_ANSWERED_BY = {AnsweredBy.HUMAN: "human", AnsweredBy.MACHINE: "machine_start", AnsweredBy.BEEP: "machine_end_beep"}
_TERMINAL = {
    TerminalStatus.COMPLETED: "completed",
    TerminalStatus.BUSY: "busy",
    TerminalStatus.NO_ANSWER: "no-answer",
    TerminalStatus.FAILED: "failed",
    TerminalStatus.CANCELED: "canceled",
}
_LIVE = {
    LegState.CREATED: "queued",
    LegState.ENQUEUED: "queued",
    LegState.CONNECTING: "initiated",
    LegState.RINGING: "ringing",
    LegState.CONNECTED: "in-progress",
}


def call_status(leg: Leg) -> str:
    """Twilio's CallStatus for the leg's state."""
    if leg.state is LegState.TERMINAL:
        return _TERMINAL.get(leg.terminal_status or TerminalStatus.FAILED, "failed")
    return _LIVE[leg.state]


def twilio_direction(leg: Leg) -> str:
    if leg.direction is Direction.INBOUND:
        return "inbound"
    return "outbound-dial" if leg.extra.get("flow_parent") else "outbound-api"


def twilio_party(p: Party) -> str:
    """A party as Twilio writes From/To: a SIP URI as given, a phone number in E.164 (`+918030752400`)."""
    return p.sip_uri or p.e164 or p.raw


def call_params(leg: Leg) -> dict[str, str]:
    """What every request about the leg carries: AccountSid, CallSid (= leg_sid), From, To, CallStatus..."""
    caller, called = (twilio_party(p) for p in parties(leg))
    params = {
        "AccountSid": leg.account_sid,
        "CallSid": leg.leg_sid,
        "From": caller,
        "To": called,
        "Caller": caller,
        "Called": called,
        "CallStatus": call_status(leg),
        "Direction": twilio_direction(leg),
        "ApiVersion": API_VERSION,
    }
    if leg.answered_by is not None:
        params["AnsweredBy"] = _ANSWERED_BY[leg.answered_by]
    parent = leg.extra.get("flow_parent")
    if parent:
        params["ParentCallSid"] = str(parent)
    return params


def recording_sid(data: Mapping[str, Any]) -> str:
    """Twilio's RecordingSid for a recording_completed event's data: the recording file's name (the leg_sid, a time
    and a random part: unique, as Twilio's), not the media engine's recording_id (`rec-N`, counted per process)."""
    stem = PurePosixPath(urlsplit(str(data.get("recording_url") or "")).path).stem
    return stem or str(data.get("recording_id") or "")


def recording_params(data: Mapping[str, Any]) -> dict[str, str]:
    """RecordingUrl, RecordingSid and RecordingDuration (whole seconds) of a recording_completed event's data."""
    duration_ms = int(data.get("duration_ms") or 0)
    return {
        "RecordingUrl": str(data.get("recording_url") or ""),
        "RecordingSid": recording_sid(data),
        "RecordingDuration": str((duration_ms + 500) // 1000),
    }


__all__ = ["API_VERSION", "call_params", "call_status", "recording_params", "recording_sid", "twilio_direction",
           "twilio_signature"]
