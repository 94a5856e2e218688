"""Twilio's conference status callbacks (TwiML `<Conference statusCallback>`): a conference event as the form
Twilio posts, for conferences a call flow created with a statusCallback (event_format "twilio").

| Legato event                          | StatusCallbackEvent                         | statusCallbackEvent |
|---------------------------------------|---------------------------------------------|---------------------|
| conference_started                    | conference-start                            | start               |
| conference_completed                  | conference-end                              | end                 |
| participant_joined                    | participant-join                            | join                |
| participant_left                      | participant-leave                           | leave               |
| participant_updated (mute, unmute)    | participant-mute, participant-unmute        | mute                |
| participant_updated (hold, unhold)    | participant-hold, participant-unhold        | hold                |
| conference_created, ..._recording_... | (none: not sent)                            |                     |

`modify`, `speaker` and `announcement` are accepted and never sent: Legato changes a participant only by mute
and hold, detects no speakers and plays no announcements. SequenceNumber is the conference's event sequence
(increasing; it counts the events not sent too). Timestamp: RFC 2822, as Twilio writes it.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from legato.dialects.dialect import Dialect
from legato.dialects.forms import form_body
from legato.domain.conference import Conference, Role
from legato.domain.events import LegEvent
from legato.domain.leg import Leg

TWILIO = "twilio"
EVENTS = ("start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement")
DEFAULT_EVENTS = ("start", "end")  # Twilio's default statusCallbackEvent
_UPDATES = {"mute": "mute", "unmute": "mute", "hold": "hold", "unhold": "hold"}
_ENDED = {"empty": "last-participant-left", "stopped": "conference-ended-via-api"}
_BY_EXIT = "participant-with-end-conference-on-exit-left"


def _status_event(event: LegEvent) -> tuple[str, str] | None:
    """(Twilio's StatusCallbackEvent, the statusCallbackEvent value selecting it), or None."""
    name = event.event_name
    if name == "conference_started":
        return "conference-start", "start"
    if name == "conference_completed":
        return "conference-end", "end"
    if name == "participant_joined":
        return "participant-join", "join"
    if name == "participant_left":
        return "participant-leave", "leave"
    reason = str(event.data.get("reason") or "")
    if name == "participant_updated" and reason in _UPDATES:
        return f"participant-{reason}", _UPDATES[reason]
    return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def render_conference_event(event: LegEvent, conference: Conference, leg: Leg | None) -> dict[str, Any] | None:
    """The callback form for a conference event, or None when it is not one the statusCallbackEvent asked for."""
    callback = conference.status_callback or {}
    found = _status_event(event)
    if found is None or found[1] not in callback.get("events", DEFAULT_EVENTS):
        return None
    params = {
        "AccountSid": conference.account_sid,
        "ConferenceSid": conference.conference_sid,
        "FriendlyName": conference.name,
        "StatusCallbackEvent": found[0],
        "SequenceNumber": str(event.sequence),
        "Timestamp": format_datetime(event.timestamp),
    }
    leg_sid = event.data.get("leg_sid")
    member = next((p for p in reversed(conference.participants) if p.leg_sid == leg_sid), None)
    if member is not None and event.event_name != "conference_started":
        params.update(
            CallSid=member.leg_sid,
            Muted=_flag(bool(event.data.get("muted", member.muted))),
            Hold=_flag(bool(event.data.get("hold", member.hold))),
            Coaching=_flag(member.role is Role.COACH),
            EndConferenceOnExit=_flag(member.end_on_exit),
            StartConferenceOnEnter=_flag(member.start_on_enter),
        )
        if member.coach_leg_sid:
            params["CallSidToCoach"] = member.coach_leg_sid
    if event.event_name == "conference_completed":
        reason = str(event.data.get("reason") or "")
        ending = next(
            (p for p in reversed(conference.participants) if p.end_on_exit and p.left_reason
             and not p.left_reason.startswith("conference_")),
            None,
        )
        if reason == "stopped" and ending is not None:
            params.update(ReasonConferenceEnded=_BY_EXIT, CallSidEndingConference=ending.leg_sid)
        else:
            params["ReasonConferenceEnded"] = _ENDED.get(reason, reason)
    return form_body(params, str(callback.get("method") or "POST"))


DIALECT = Dialect(TWILIO, render_conference_event=render_conference_event)
