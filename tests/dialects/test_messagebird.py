from __future__ import annotations

import pytest
from hypothesis import given, settings

from legato.dialects import messagebird
from legato.dialects.conditions import ALL_CONDITIONS, condition, preimage
from legato.domain.call import Call
from legato.domain.events import LegEvent
from legato.domain.leg import Direction, Leg, LegState, TerminalStatus
from tests.dialects.support import T0, legs, make_leg, validate

SCHEMA = "messagebird_leg.json"


def test_answered_outbound_leg_renders_exactly() -> None:
    leg = make_leg((LegState.TERMINAL, TerminalStatus.COMPLETED))
    assert messagebird.render_leg(leg) == {
        "id": leg.leg_sid,
        "callId": leg.call_sid,
        "source": "918030752400",
        "destination": "919163816621",
        "status": "hangup",
        "direction": "outgoing",
        "duration": 62,
        "createdAt": "2024-05-31T08:02:32Z",
        "updatedAt": "2024-05-31T08:03:39Z",
        "answeredAt": "2024-05-31T08:02:37Z",
        "endedAt": "2024-05-31T08:03:39Z",
    }


def test_sip_party_keeps_its_uri_and_inbound_swaps_parties() -> None:
    leg = make_leg((LegState.RINGING, None), direction=Direction.INBOUND, contact="sip:alice@pbx.example.com",
                   contact_e164=None, network_type="voip")
    body = messagebird.render_leg(leg)
    assert (body["source"], body["destination"], body["direction"]) == (
        "sip:alice@pbx.example.com", "918030752400", "incoming")
    assert "answeredAt" not in body and "endedAt" not in body
    validate(SCHEMA, body)


@pytest.mark.parametrize(("cond", "expected"), [
    ((LegState.CREATED, None), "starting"), ((LegState.ENQUEUED, None), "starting"),
    ((LegState.CONNECTING, None), "starting"), ((LegState.RINGING, None), "ringing"),
    ((LegState.CONNECTED, None), "ongoing"), ((LegState.TERMINAL, TerminalStatus.COMPLETED), "hangup"),
    ((LegState.TERMINAL, TerminalStatus.CANCELED), "hangup"),
    ((LegState.TERMINAL, TerminalStatus.BUSY), "busy"),
    ((LegState.TERMINAL, TerminalStatus.NO_ANSWER), "no_answer"),
    ((LegState.TERMINAL, TerminalStatus.FAILED), "failed"),
])
def test_status_table(cond: tuple, expected: str) -> None:
    assert messagebird.status(make_leg(cond)) == expected


def test_every_condition_has_a_status_in_the_schema_enum() -> None:
    import json

    from tests.dialects.support import SCHEMAS
    enum = json.loads((SCHEMAS / SCHEMA).read_text())["properties"]["status"]["enum"]
    assert set(messagebird.STATUS) == set(ALL_CONDITIONS)
    assert set(messagebird.STATUS.values()) == set(enum)


@settings(deadline=None)
@given(legs())
def test_every_leg_validates_and_status_round_trips(leg: Leg) -> None:
    body = messagebird.render_leg(leg)
    validate(SCHEMA, body)
    assert condition(leg) in preimage(messagebird.STATUS, body["status"])
    assert body["duration"] == leg.duration()


def test_call_renders_call_object_and_legs() -> None:
    first = make_leg((LegState.CONNECTED, None))
    second = make_leg((LegState.RINGING, None), contact="+14155550123", contact_e164="+14155550123")
    second.leg_sid, second.date_created = "2QYATxQ9t4UKcUwcqJClSa9OEZ500000", T0.replace(second=40)
    body = messagebird.render_call(Call.of([second, first]))
    assert body["data"][0]["id"] == first.call_sid
    assert body["data"][0]["status"] == "ongoing"
    assert body["data"][0]["destination"] == "919163816621"
    assert "endedAt" not in body["data"][0]
    assert [item["id"] for item in body["legs"]] == [first.leg_sid, second.leg_sid]
    for item in body["legs"]:
        validate(SCHEMA, item)


def test_ended_call_status() -> None:
    leg = make_leg((LegState.TERMINAL, TerminalStatus.BUSY))
    body = messagebird.render_call(Call.of([leg]))["data"][0]
    assert body["status"] == "ended"
    assert body["endedAt"] == "2024-05-31T08:03:54Z"


def test_event_is_the_leg_snapshot() -> None:
    leg = make_leg((LegState.RINGING, None))
    event = LegEvent("ev", leg.leg_sid, leg.account_sid, 2, "leg_ringing", "leg_lifecycle_event", T0, {})
    assert messagebird.render_event(event, leg) == messagebird.render_leg(leg)


def test_official_sdk_parses_the_call() -> None:
    call_module = pytest.importorskip("messagebird.call")
    leg = make_leg((LegState.TERMINAL, TerminalStatus.COMPLETED))
    parsed = call_module.Call().load(messagebird.render_call(Call.of([leg])))
    assert parsed.data.id == leg.call_sid
    assert parsed.data.status == "ended"
    assert parsed.data.source == "918030752400"
    assert parsed.data.endedAt.isoformat() == "2024-05-31T08:03:39+00:00"
