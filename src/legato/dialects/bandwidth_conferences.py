"""Bandwidth Voice conference callbacks: a conference event as the Bandwidth callback body.

Models: the `bandwidth-sdk` ConferenceCreatedCallback, ConferenceMemberJoinCallback,
ConferenceMemberExitCallback, ConferenceCompletedCallback and ConferenceRecordingAvailableCallback.
conferenceId = conference_sid, name = the conference's name, callId = the participant's leg_sid.

| Legato event                    | Bandwidth eventType          | notes                                     |
|---------------------------------|------------------------------|-------------------------------------------|
| conference_created              | conferenceCreated            |                                           |
| participant_joined              | conferenceMemberJoin         | from/to/callId/tag of the member's leg    |
| participant_left                | conferenceMemberExit         | same                                      |
| conference_completed            | conferenceCompleted          |                                           |
| conference_recording_completed  | conferenceRecordingAvailable | channels 1, fileFormat wav, status        |
|                                 |                              | complete, mediaUrl = recording_url        |
| (none)                          | conferenceRedirect           | Legato has no conference redirect         |

`tag`: the member leg's custom_param on member events; conferences have no tag of their own (omitted).
"""

from __future__ import annotations

from typing import Any

from legato.dialects.parties import parties
from legato.dialects.timestamps import rfc3339
from legato.domain.conference import Conference
from legato.domain.events import LegEvent
from legato.domain.leg import Leg

CONFERENCE_EVENT_TYPES: dict[str, str] = {
    "conference_created": "conferenceCreated",
    "participant_joined": "conferenceMemberJoin",
    "participant_left": "conferenceMemberExit",
    "conference_completed": "conferenceCompleted",
    "conference_recording_completed": "conferenceRecordingAvailable",
}


def _iso_duration(ms: int) -> str:
    return f"PT{ms / 1000:.3f}".rstrip("0").rstrip(".") + "S"


def render_conference_event(event: LegEvent, conference: Conference, leg: Leg | None) -> dict[str, Any] | None:
    """The callback body for a conference event, or None when Bandwidth has no callback for it."""
    event_type = CONFERENCE_EVENT_TYPES.get(event.event_name)
    if event_type is None:
        return None
    body: dict[str, Any] = {
        "eventType": event_type,
        "eventTime": rfc3339(event.timestamp),
        "conferenceId": conference.conference_sid,
        "name": conference.name,
    }
    if event_type in ("conferenceMemberJoin", "conferenceMemberExit"):
        body["callId"] = event.data.get("leg_sid")
        if leg is not None:
            caller, called = parties(leg)
            body["from"], body["to"] = caller.canonical, called.canonical
            if leg.custom_param is not None:
                body["tag"] = leg.custom_param
    if event_type == "conferenceRecordingAvailable":
        duration_ms = int(event.data.get("duration_ms") or 0)
        body.update(
            {
                "accountId": conference.account_sid,
                "recordingId": event.data.get("recording_id"),
                "channels": 1,
                "startTime": rfc3339(conference.date_created),
                "endTime": rfc3339(event.timestamp),
                "duration": _iso_duration(duration_ms),
                "fileFormat": "wav",
                "mediaUrl": event.data.get("recording_url"),
                "status": "complete",
            }
        )
    return body
