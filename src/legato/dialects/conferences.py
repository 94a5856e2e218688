"""Legato's own shape of a conference: the resource (also the event data of conference events)."""

from __future__ import annotations

from typing import Any

from legato.domain.conference import Conference, Participant
from legato.domain.events import iso


def participant_resource(participant: Participant) -> dict[str, Any]:
    """One participant as the conference resource lists it."""
    return {
        "leg_sid": participant.leg_sid,
        "role": participant.role.value,
        "muted": participant.muted,
        "hold": participant.hold,
        "coach_leg_sid": participant.coach_leg_sid,
        "state": "joined" if participant.present else "left",
        "date_joined": iso(participant.date_joined),
        "date_left": iso(participant.date_left),
        "left_reason": participant.left_reason,
    }


def conference_resource(conference: Conference) -> dict[str, Any]:
    """The conference as `GET /conferences/{conference_sid}` returns it (participants present and left)."""
    fields = list(conference_event_data(conference).items())
    at = len(fields) - 5  # the participants come before end_reason, as they always have
    participants = [participant_resource(p) for p in conference.participants]
    return dict([*fields[:at], ("participants", participants), *fields[at:]])


def conference_event_data(conference: Conference) -> dict[str, Any]:
    """The data of a conference event: the resource without the participant list (events name their leg)."""
    return {
        "conference_sid": conference.conference_sid,
        "account_sid": conference.account_sid,
        "name": conference.name,
        "state": conference.state.value,
        "conference_event_endpoint": conference.conference_event_endpoint,
        "event_format": conference.event_format,
        "record": conference.record,
        "max_participants": conference.max_participants,
        "end_when_empty": conference.end_when_empty,
        "dc_code": conference.dc_code,
        "participant_count": len(conference.members),
        "end_reason": conference.end_reason,
        "recording_url": conference.recording_url,
        "date_created": iso(conference.date_created),
        "date_updated": iso(conference.date_updated),
        "end_time": iso(conference.end_time),
    }
