from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from legato.dialects import telefonie
from legato.dialects.conditions import ALL_CONDITIONS, condition, preimage
from legato.dialects.parties import parties
from legato.domain.call import Call
from legato.domain.errors import NotRepresentable
from legato.domain.events import LegEvent
from legato.domain.leg import AnsweredBy, Direction, Leg, LegState, TerminalStatus
from tests.dialects.support import SCHEMAS, T0, legs, make_leg, validate

SCHEMA = "telefonie_call.json"


def test_completed_priced_leg_renders_exactly() -> None:
    leg = make_leg(
        (LegState.TERMINAL, TerminalStatus.COMPLETED), amd_enable=True, answered_by=AnsweredBy.BEEP
    )
    leg.extra.update(price="0.01350", price_unit="USD", recording_url="https://rec.example.com/a.wav")
    body = telefonie.render_leg(leg)
    assert body == {
        "id": leg.leg_sid,
        "status": "completed",
        "direction": "outbound",
        "from": "+918030752400",
        "to": "+919163816621",
        "duration": 62,
        "start_time": "2024-05-31T08:02:37.608Z",
        "end_time": "2024-05-31T08:03:39.108Z",
        "price": "-0.01350",
        "price_unit": "USD",
        "recording_url": "https://rec.example.com/a.wav",
        "status_callback": "https://app.example.com/events",
        "answered_by": "machine",
    }
    validate(SCHEMA, body)


def test_live_leg_has_no_duration_price_or_times() -> None:
    body = telefonie.render_leg(make_leg((LegState.RINGING, None)))
    assert body["status"] == "ringing"
    assert not {"duration", "start_time", "end_time", "price", "answered_by"} & body.keys()


def test_zero_price_is_not_negative_zero() -> None:
    leg = make_leg((LegState.TERMINAL, TerminalStatus.BUSY))
    leg.extra.update(price="0.00000", price_unit="INR")
    assert telefonie.render_leg(leg)["price"] == "0.00000"


@pytest.mark.parametrize(
    ("answered_by", "answered", "expected"),
    [
        (AnsweredBy.HUMAN, True, "human"),
        (AnsweredBy.MACHINE, True, "machine"),
        (AnsweredBy.BEEP, True, "machine"),
        (None, True, "unknown"),
        (None, False, None),
    ],
)
def test_answered_by_table(answered_by: AnsweredBy | None, answered: bool, expected: str | None) -> None:
    cond = (LegState.CONNECTED, None) if answered else (LegState.TERMINAL, TerminalStatus.NO_ANSWER)
    leg = make_leg(cond, amd_enable=True, answered_by=answered_by, answered=answered)
    assert telefonie.answered_by(leg) == expected


def test_answered_by_omitted_without_amd() -> None:
    assert "answered_by" not in telefonie.render_leg(make_leg((LegState.CONNECTED, None)))


def test_sip_party_with_number_uses_it_and_without_raises() -> None:
    leg = make_leg(
        (LegState.CONNECTED, None),
        contact="sip:+14155550123@10.0.0.5",
        contact_e164=None,
        network_type="voip",
    )
    assert telefonie.render_leg(leg)["to"] == "+14155550123"
    leg = make_leg(
        (LegState.CONNECTED, None),
        contact="sip:alice@pbx.example.com",
        contact_e164=None,
        network_type="voip",
        direction=Direction.INBOUND,
    )
    with pytest.raises(NotRepresentable) as caught:
        telefonie.render_leg(leg)
    assert caught.value.field == "from"


def test_a_flow_leg_renders_its_url_and_status_callback() -> None:
    leg = make_leg((LegState.CONNECTED, None))
    leg.extra["flow"] = {"url": "https://app.example.com/voice", "method": "POST",
                         "status_callback": "https://app.example.com/status"}
    body = telefonie.render_leg(leg)
    assert body["url"] == "https://app.example.com/voice"
    assert body["status_callback"] == "https://app.example.com/status"
    validate(SCHEMA, body)


def test_grpc_endpoint_is_not_a_status_callback() -> None:
    leg = make_leg((LegState.CONNECTED, None))
    leg.leg_event_endpoint = "grpc://127.0.0.1:9001"
    assert "status_callback" not in telefonie.render_leg(leg)


def test_statuses_cover_conditions_and_schema_enum() -> None:
    enum = json.loads((SCHEMAS / SCHEMA).read_text())["properties"]["status"]["enum"]
    assert set(telefonie.STATUS) == set(ALL_CONDITIONS)
    assert set(telefonie.STATUS.values()) == set(enum)


@settings(deadline=None)
@given(legs())
def test_every_leg_validates_or_is_refused_and_round_trips(leg: Leg) -> None:
    caller, called = parties(leg)
    if caller.e164 is None or called.e164 is None:
        with pytest.raises(NotRepresentable):
            telefonie.render_leg(leg)
        return
    body = telefonie.render_leg(leg)
    validate(SCHEMA, body)
    assert condition(leg) in preimage(telefonie.STATUS, body["status"])
    if "answered_by" in body:
        assert leg.amd_enable and leg.answer_time is not None
        assert leg.answered_by in {k for k, v in telefonie.ANSWERED_BY.items() if v == body["answered_by"]}
    if "price" in body:
        assert not body["price"].startswith("-") or body["price"][1:] == leg.extra["price"]


def test_call_and_event() -> None:
    leg = make_leg((LegState.CONNECTED, None))
    body = telefonie.render_call(Call.of([leg]))
    assert body == {"calls": [telefonie.render_leg(leg)]}
    event = LegEvent("ev", leg.leg_sid, leg.account_sid, 3, "leg_answered", "leg_lifecycle_event", T0, {})
    assert telefonie.render_event(event, leg) == telefonie.render_leg(leg)
