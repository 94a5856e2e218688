from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.dialects import bandwidth
from legato.domain.events import LegEvent
from legato.domain.leg import AnsweredBy, Direction, Leg, LegState, TerminalStatus
from tests.dialects.support import T0, legs, make_leg, validate

try:  # the official SDK (bandwidth-sdk on PyPI); the parse test skips only when it is missing
    from bandwidth import models as sdk_models
except ImportError:  # pragma: no cover
    sdk_models = None

SCHEMA = "bandwidth_callback.json"
T = TerminalStatus
EVENT_NAMES = [
    "leg_connecting",
    "leg_incoming",
    "leg_ringing",
    "leg_answered",
    "amd_result_success",
    "leg_terminated",
    "leg_failed_to_create",
]
SDK_MODELS = {
    "initiate": "InitiateCallback",
    "answer": "AnswerCallback",
    "machineDetectionComplete": "MachineDetectionCompleteCallback",
    "disconnect": "DisconnectCallback",
}


def event_for(leg: Leg, name: str) -> LegEvent:
    moment = leg.end_time or leg.answer_time or leg.start_time or T0
    return LegEvent(
        "2QmI6NeiCjDaz5egUwkVlJCOtUQ00002",
        leg.leg_sid,
        leg.account_sid,
        4,
        name,
        "leg_lifecycle_event",
        moment + timedelta(milliseconds=3),
        {},
    )


def test_disconnect_renders_exactly() -> None:
    leg = make_leg(
        (LegState.TERMINAL, T.BUSY),
        hangup_cause="user_busy",
        hangup_cause_code=17,
        custom_param="MD_LEGS",
        sip_response_code=486,
    )
    body = bandwidth.render_event(event_for(leg, "leg_terminated"), leg)
    assert body == {
        "eventType": "disconnect",
        "eventTime": "2024-05-31T08:03:54.111Z",
        "accountId": "exotel60",
        "from": "+918030752400",
        "to": "+919163816621",
        "direction": "outbound",
        "callId": leg.leg_sid,
        "startTime": "2024-05-31T08:02:32.728Z",
        "endTime": "2024-05-31T08:03:54.108Z",
        "cause": "busy",
        "errorMessage": "user_busy (Q.850 17)",
        "sipResponseCode": 486,
        "tag": "MD_LEGS",
    }
    validate(SCHEMA, body)


def test_answer_carries_the_amd_verdict() -> None:
    leg = make_leg((LegState.CONNECTED, None), amd_enable=True, answered_by=AnsweredBy.BEEP)
    body = bandwidth.render_event(event_for(leg, "leg_answered"), leg)
    assert body is not None
    assert body["eventType"] == "answer"
    assert body["answerTime"] == "2024-05-31T08:02:37.608Z"
    assert body["machineDetectionResult"] == {"value": "answering-machine"}
    validate(SCHEMA, body)


def test_initiate_for_an_inbound_leg() -> None:
    leg = make_leg((LegState.RINGING, None), direction=Direction.INBOUND, custom_param="x")
    body = bandwidth.render_event(event_for(leg, "leg_incoming"), leg)
    assert body is not None
    assert (body["eventType"], body["from"], body["to"]) == ("initiate", "+919163816621", "+918030752400")
    assert "tag" not in body
    validate(SCHEMA, body)


@pytest.mark.parametrize("name", ["leg_connecting", "leg_ringing", "some_future_event"])
def test_events_bandwidth_has_no_callback_for_are_not_delivered(name: str) -> None:
    leg = make_leg((LegState.RINGING, None))
    assert bandwidth.render_event(event_for(leg, name), leg) is None


@pytest.mark.parametrize(
    ("status", "direction", "cause", "code", "expected"),
    [
        (T.COMPLETED, Direction.OUTBOUND, "normal_clearing", 16, "hangup"),
        (T.BUSY, Direction.OUTBOUND, "user_busy", 17, "busy"),
        (T.NO_ANSWER, Direction.OUTBOUND, "timeout", 19, "timeout"),
        (T.CANCELED, Direction.OUTBOUND, "hangup_requested", 16, "cancel"),
        (T.CANCELED, Direction.INBOUND, "caller_canceled", 16, "cancel"),
        (T.CANCELED, Direction.INBOUND, "rejected_rejected", 21, "rejected"),
        (T.FAILED, Direction.OUTBOUND, "call_rejected", 21, "rejected"),
        (T.FAILED, Direction.OUTBOUND, "failed_to_create", 41, "error"),
    ],
)
def test_cause_table(
    status: TerminalStatus, direction: Direction, cause: str, code: int, expected: str
) -> None:
    leg = make_leg(
        (LegState.TERMINAL, status), direction=direction, hangup_cause=cause, hangup_cause_code=code
    )
    assert bandwidth.cause(leg) == expected


@settings(deadline=None)
@given(legs(), st.sampled_from(EVENT_NAMES))
def test_every_event_validates_and_round_trips(leg: Leg, name: str) -> None:
    body = bandwidth.render_event(event_for(leg, name), leg)
    if body is None:
        assert name not in bandwidth.EVENT_TYPES
        return
    validate(SCHEMA, body)
    assert body["eventType"] == bandwidth.EVENT_TYPES[name]
    if body["eventType"] == "disconnect":
        status = leg.terminal_status or T.FAILED
        assert body["cause"] in {bandwidth.CAUSES[status], "rejected"}
    if "tag" in body:
        assert body["tag"] == leg.custom_param


@settings(deadline=None)
@given(legs(), st.sampled_from(EVENT_NAMES))
def test_official_sdk_parses_every_event(leg: Leg, name: str) -> None:
    if sdk_models is None:
        pytest.skip("bandwidth-sdk is not installed")
    body = bandwidth.render_event(event_for(leg, name), leg)
    if body is None:
        return
    model = getattr(sdk_models, SDK_MODELS[body["eventType"]]).from_dict(body)
    assert model.event_type == body["eventType"]
    assert model.call_id == leg.leg_sid
    parsed = {key for key, value in model.to_dict().items() if value is not None}
    assert parsed == set(body)  # every field we send is one the SDK model knows, and none is lost
    if body["eventType"] == "disconnect":
        assert model.cause == body["cause"]
        assert model.end_time is not None
        assert model.tag == leg.custom_param
