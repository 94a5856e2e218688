"""Conference events as Bandwidth callbacks: exact bodies, each parsed by the official SDK's model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bandwidth import models as sdk

from legato.dialects import formats
from legato.domain.conference import Conference, Participant, Role
from legato.engine.conferences import conference_event
from tests.dialects.support import T0, make_leg

LEG = make_leg(custom_param="queue-7")
MS = T0.replace(microsecond=608_000)  # Bandwidth times carry milliseconds
MODELS = {
    "conference_created": ("conferenceCreated", sdk.ConferenceCreatedCallback),
    "participant_joined": ("conferenceMemberJoin", sdk.ConferenceMemberJoinCallback),
    "participant_left": ("conferenceMemberExit", sdk.ConferenceMemberExitCallback),
    "conference_recording_completed": ("conferenceRecordingAvailable", sdk.ConferenceRecordingAvailableCallback),
    "conference_completed": ("conferenceCompleted", sdk.ConferenceCompletedCallback),
}


def conference(event_format: str | None = "bandwidth") -> Conference:
    room = Conference(
        "2QYATxQ9t4UKcUwcqJClSa9OEZ400007",
        "exotel60",
        "support",
        "https://app.example/c",
        event_format,
        True,
        50,
        True,
        T0,
    )
    room.participants.append(Participant(LEG.leg_sid, Role.PARTICIPANT, False, False, None, T0))
    return room


@pytest.mark.parametrize("name", list(MODELS))
def test_each_event_parses_as_the_sdk_model(name: str) -> None:
    room = conference()
    leg_sid = LEG.leg_sid if name.startswith("participant") else None
    extra = {"recording_id": "rec", "duration_ms": 61_250} if "recording" in name else None
    if extra:
        room.recording_url = "https://legato.example/v2/accounts/exotel60/recordings/rec.wav"
    at = MS + timedelta(seconds=62)
    event = conference_event(room, name, at, leg_sid=leg_sid, extra=extra, leg=LEG if leg_sid else None)
    event_type, model = MODELS[name]
    body = event.payload()
    parsed = model.from_dict(body)
    assert (parsed.event_type, parsed.conference_id, parsed.name) == (event_type, room.conference_sid, "support")
    assert parsed.event_time == at
    assert set(body) <= {model.model_fields[f].alias or f for f in model.model_fields}  # no field the model lacks
    if leg_sid:
        assert (parsed.call_id, parsed.var_from, parsed.to, parsed.tag) == (
            LEG.leg_sid,
            "+918030752400",
            "+919163816621",
            "queue-7",
        )
    if extra:
        assert (parsed.media_url, parsed.duration, parsed.channels, parsed.status) == (
            room.recording_url,
            "PT61.25S",
            1,
            "complete",
        )
        assert (parsed.start_time, parsed.end_time, parsed.account_id) == (MS, at, "exotel60")


def test_no_counterpart_is_kept_not_delivered_and_exotel_is_legatos_own() -> None:
    updated = conference_event(conference(), "participant_updated", T0, leg_sid=LEG.leg_sid, reason="mute")
    assert (updated.body, updated.deliver) == (None, False)
    for fmt in ("messagebird", "telefonie"):
        assert formats.render_conference_event(fmt, updated, conference(fmt), LEG) is None
    own = conference_event(conference(None), "participant_joined", T0, leg_sid=LEG.leg_sid)
    assert own.deliver and own.payload()["event_data"]["data"]["leg_sid"] == LEG.leg_sid
    assert formats.render_conference_event("exotel", own, conference("exotel"), LEG) == own.payload()
