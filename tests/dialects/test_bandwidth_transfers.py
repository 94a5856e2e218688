"""Bandwidth renderings of transfer and bridge events: transferAnswer, transferComplete, transferDisconnect,
bridgeComplete, bridgeTargetComplete; each validates against the schema and is parsed by the official SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.dialects import bandwidth
from legato.domain.events import LegEvent
from legato.domain.leg import Leg, LegState, TerminalStatus
from legato.domain.transfer import TRANSFERRED_FROM_KEY
from tests.dialects.support import T0, legs, make_leg, validate

try:  # the official SDK (bandwidth-sdk on PyPI)
    from bandwidth import models as sdk_models
except ImportError:  # pragma: no cover
    sdk_models = None

SCHEMA = "bandwidth_callback.json"
SDK_MODELS = {
    "transferAnswer": "TransferAnswerCallback",
    "transferComplete": "TransferCompleteCallback",
    "transferDisconnect": "TransferDisconnectCallback",
    "bridgeComplete": "BridgeCompleteCallback",
    "bridgeTargetComplete": "BridgeTargetCompleteCallback",
}
TRANSFER = {
    "transfer_to": "09163810042",
    "transfer_destination": "+919163810042",
    "transfer_mode": "attended",
    "transfer_leg_sid": "1Xn2Q",
}
BUSY = {"error_code": 17, "message": "busy: user_busy", "description": "transfer to 09163810042 failed: busy"}
CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, str]] = [
    ("transfer_answered", TRANSFER, None, "transferAnswer"),
    ("transfer_completed", {**TRANSFER, "transfer_mode": "blind", "sip_code": 200}, None, "transferComplete"),
    ("transfer_failed", {**TRANSFER, "sip_code": 486}, BUSY, "transferComplete"),
    (
        "bridge_completed",
        {"bridge_sid": "BR1", "bridge_role": "initiator", "reason": "bridge_ended"},
        None,
        "bridgeComplete",
    ),
    (
        "bridge_completed",
        {"bridge_sid": "BR1", "bridge_role": "target", "reason": "bridge_ended"},
        None,
        "bridgeTargetComplete",
    ),
]


def event_for(leg: Leg, name: str, data: dict[str, Any], error: dict[str, Any] | None = None) -> LegEvent:
    moment = leg.end_time or leg.answer_time or leg.start_time or T0
    return LegEvent(
        "2QmI6NeiCjDaz5egUwkVlJCOtUQ00002",
        leg.leg_sid,
        leg.account_sid,
        5,
        name,
        "leg_action_event",
        moment + timedelta(milliseconds=3),
        data,
        error,
    )


def sdk_parse(body: dict[str, Any]) -> Any:
    if sdk_models is None:
        pytest.skip("bandwidth-sdk is not installed")
    model = getattr(sdk_models, SDK_MODELS[body["eventType"]]).from_dict(body)
    assert model.event_type == body["eventType"]
    parsed = {key for key, value in model.to_dict().items() if value is not None}
    assert parsed == set(body)  # every field we send is one the SDK model knows, and none is lost
    return model


def test_transfer_answer_renders_exactly() -> None:
    leg = make_leg((LegState.CONNECTED, None), custom_param="queue-7")
    body = bandwidth.render_event(event_for(leg, "transfer_answered", TRANSFER), leg)
    assert body == {
        "eventType": "transferAnswer",
        "eventTime": "2024-05-31T08:02:37.611Z",
        "accountId": "exotel60",
        "from": "+918030752400",
        "to": "+919163816621",
        "direction": "outbound",
        "callId": leg.leg_sid,
        "startTime": "2024-05-31T08:02:32.728Z",
        "answerTime": "2024-05-31T08:02:37.608Z",
        "transferCallerId": "+918030752400",
        "transferTo": "+919163810042",
        "tag": "queue-7",
    }
    validate(SCHEMA, body)
    model = sdk_parse(body)
    assert (model.transfer_caller_id, model.transfer_to) == ("+918030752400", "+919163810042")


def test_failed_transfer_is_a_transfer_complete_with_its_cause() -> None:
    leg = make_leg((LegState.CONNECTED, None))
    body = bandwidth.render_event(event_for(leg, "transfer_failed", {**TRANSFER, "sip_code": 486}, BUSY), leg)
    assert body is not None
    assert (body["eventType"], body["cause"], body["errorMessage"]) == ("transferComplete", "busy", BUSY["description"])
    validate(SCHEMA, body)
    assert sdk_parse(body).cause == "busy"


def test_the_new_leg_of_an_attended_transfer_ends_with_transfer_disconnect() -> None:
    leg = make_leg((LegState.TERMINAL, TerminalStatus.NO_ANSWER), hangup_cause="ring_timeout", hangup_cause_code=19)
    leg.extra[TRANSFERRED_FROM_KEY] = "1AlegSid"
    body = bandwidth.render_event(event_for(leg, "leg_terminated", {}), leg)
    assert body is not None
    assert (body["eventType"], body["parentCallId"], body["cause"]) == ("transferDisconnect", "1AlegSid", "timeout")
    assert (body["transferCallerId"], body["transferTo"]) == ("+918030752400", "+919163816621")
    validate(SCHEMA, body)
    model = sdk_parse(body)
    assert (model.parent_call_id, model.end_time) == ("1AlegSid", leg.end_time.replace(microsecond=108000))


@settings(deadline=None, max_examples=60)
@given(legs(conditions=((LegState.CONNECTED, None),)), st.sampled_from(CASES))
def test_every_transfer_and_bridge_event_validates_and_parses(leg: Leg, case: tuple[Any, ...]) -> None:
    name, data, error, event_type = case
    body = bandwidth.render_event(event_for(leg, name, data, error), leg)
    assert body is not None and body["eventType"] == event_type
    validate(SCHEMA, body)
    model = sdk_parse(body)
    assert model.call_id == leg.leg_sid
