"""transcription_completed as Bandwidth's transcriptionAvailable: schema and the official SDK's model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from legato.dialects import bandwidth
from legato.domain.events import LegEvent
from legato.domain.leg import Leg, LegState
from tests.dialects.support import T0, make_leg, validate

try:
    from bandwidth import models as sdk_models
except ImportError:  # pragma: no cover
    sdk_models = None

DONE = {
    "recording_id": "rec-7",
    "file": "a.wav",
    "recording_url": "https://legato.example/v2/accounts/A/recordings/a.wav",
    "status": "completed",
    "text": "open an account",
    "confidence": 0.61,
}


def event(leg: Leg, data: dict[str, object]) -> LegEvent:
    return LegEvent(
        "2QmI6NeiCjDaz5egUwkVlJCOtUQ00009",
        leg.leg_sid,
        leg.account_sid,
        9,
        "transcription_completed",
        "leg_action_event",
        T0 + timedelta(seconds=9),
        data,
    )


def test_transcription_available_renders_and_the_sdk_parses_it() -> None:
    leg = make_leg((LegState.CONNECTED, None), custom_param="order-1")
    body = bandwidth.render_event(event(leg, DONE), leg)
    assert body is not None
    validate("bandwidth_callback.json", body)
    assert body["eventType"] == "transcriptionAvailable" and body["callId"] == leg.leg_sid
    assert (body["recordingId"], body["mediaUrl"], body["tag"]) == ("rec-7", DONE["recording_url"], "order-1")
    assert body["transcription"] == {"text": "open an account", "confidence": 0.61}
    if sdk_models is None:
        pytest.skip("bandwidth-sdk is not installed")
    model = sdk_models.TranscriptionAvailableCallback.from_dict(body)
    assert model.transcription.text == "open an account" and model.recording_id == "rec-7"
    assert {k for k, v in model.to_dict().items() if v is not None} == set(body)


def test_a_failed_transcription_has_no_callback() -> None:
    leg = make_leg((LegState.CONNECTED, None))
    assert bandwidth.render_event(event(leg, {**DONE, "status": "failed", "text": ""}), leg) is None
