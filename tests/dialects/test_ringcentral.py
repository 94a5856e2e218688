from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings

from legato.dialects import ringcentral
from legato.dialects.conditions import condition
from legato.dialects.encoding import dumps
from legato.domain.call import Call
from legato.domain.leg import Direction, Leg, LegState, TerminalStatus
from tests.dialects.support import SCHEMAS, T0, legs, make_leg, validate

LEG_SCHEMA = "ringcentral_call_log_leg.json"
RECORD_SCHEMA = "ringcentral_call_log_record.json"
URI = "https://legato.example.com/v2/accounts/exotel60/call-log/2QYATxQ9t4UKcUwcqJClSa9OEZ400001"
T = TerminalStatus


def test_completed_leg_renders_exactly() -> None:
    leg = make_leg((LegState.TERMINAL, T.COMPLETED))
    leg.extra.update(price="0.02400", price_unit="INR")
    body = ringcentral.render_leg(leg, master=True)
    assert body == {
        "type": "Voice",
        "direction": "Outbound",
        "action": "Phone Call",
        "startTime": "2024-05-31T08:02:32.728Z",
        "duration": 62,
        "durationMs": 61500,
        "telephonySessionId": leg.call_sid,
        "transport": "PSTN",
        "from": {"phoneNumber": "+918030752400"},
        "to": {"phoneNumber": "+919163816621"},
        "result": "Accepted",
        "reason": "Accepted",
        "reasonDescription": "The call was connected to and accepted by this number",
        "legType": "SipToPstnMetered",
        "partyId": leg.leg_sid,
        "billing": {"costIncluded": Decimal(0), "costPurchased": Decimal("0.02400")},
        "master": True,
    }
    validate(LEG_SCHEMA, body)
    assert '"costPurchased":0.02400' in dumps(body)


def test_simple_view_has_no_billing_or_master() -> None:
    leg = make_leg((LegState.TERMINAL, T.COMPLETED))
    leg.extra.update(price="1", price_unit="INR")
    body = ringcentral.render_leg(leg, ringcentral.SIMPLE, master=True)
    assert "billing" not in body and "master" not in body


def test_recording_only_when_present() -> None:
    leg = make_leg((LegState.TERMINAL, T.COMPLETED))
    assert "recording" not in ringcentral.render_leg(leg)
    leg.extra["recording_url"] = "https://rec.example.com/r/1.wav"
    body = ringcentral.render_leg(leg)
    assert body["recording"] == {
        "id": leg.leg_sid,
        "uri": "https://rec.example.com/r/1.wav",
        "type": "Automatic",
        "contentUri": "https://rec.example.com/r/1.wav",
    }
    validate(LEG_SCHEMA, body)


@pytest.mark.parametrize(
    ("cond", "direction", "cause", "code", "expected"),
    [
        ((LegState.RINGING, None), Direction.OUTBOUND, None, None, ("In Progress", None)),
        ((LegState.TERMINAL, T.BUSY), Direction.OUTBOUND, "user_busy", 17, ("Busy", "Line Busy")),
        (
            (LegState.TERMINAL, T.NO_ANSWER),
            Direction.OUTBOUND,
            "ring_timeout",
            19,
            ("No Answer", "Not Answered"),
        ),
        ((LegState.TERMINAL, T.NO_ANSWER), Direction.INBOUND, "ring_timeout", 18, ("Missed", "No Answer")),
        ((LegState.TERMINAL, T.CANCELED), Direction.OUTBOUND, "hangup_requested", 16, ("Hang Up", "Hang Up")),
        ((LegState.TERMINAL, T.CANCELED), Direction.INBOUND, "caller_canceled", 16, ("Missed", "Hang Up")),
        (
            (LegState.TERMINAL, T.CANCELED),
            Direction.INBOUND,
            "rejected_rejected",
            21,
            ("Rejected", "Calls Not Accepted"),
        ),
        (
            (LegState.TERMINAL, T.FAILED),
            Direction.OUTBOUND,
            "unallocated_number",
            1,
            ("Wrong Number", "Wrong Number"),
        ),
        ((LegState.TERMINAL, T.FAILED), Direction.OUTBOUND, "call_rejected", 21, ("Rejected", None)),
        (
            (LegState.TERMINAL, T.FAILED),
            Direction.OUTBOUND,
            "temporary_failure",
            41,
            ("Call Failed", "Resource Error"),
        ),
        (
            (LegState.TERMINAL, T.FAILED),
            Direction.OUTBOUND,
            "failed_to_create",
            41,
            ("Internal Error", "Internal Error"),
        ),
        (
            (LegState.TERMINAL, T.FAILED),
            Direction.OUTBOUND,
            "setup_timeout",
            102,
            ("Call Failed", "Failed Try Again"),
        ),
    ],
)
def test_result_and_reason_table(
    cond: tuple, direction: Direction, cause: str | None, code: int | None, expected: tuple[str, str | None]
) -> None:
    leg = make_leg(cond, direction=direction, hangup_cause=cause, hangup_cause_code=code)
    assert ringcentral.outcome(leg) == expected


def test_tables_use_only_documented_values() -> None:
    leg_schema = json.loads((SCHEMAS / LEG_SCHEMA).read_text())["properties"]
    assert set(ringcentral.RESULT_CONDITIONS) <= set(leg_schema["result"]["enum"])
    assert set(ringcentral.REASON_DESCRIPTIONS) <= set(leg_schema["reason"]["enum"])
    assert set(ringcentral.LEG_TYPE.values()) <= set(leg_schema["legType"]["enum"])
    assert set(ringcentral.ACTION.values()) <= set(leg_schema["action"]["enum"])


@settings(deadline=None)
@given(legs())
def test_every_leg_validates_and_result_round_trips(leg: Leg) -> None:
    for view in ringcentral.VIEWS:
        body = ringcentral.render_leg(leg, view, master=False)
        validate(LEG_SCHEMA, body)
        assert condition(leg) in ringcentral.RESULT_CONDITIONS[body["result"]]
        assert body["durationMs"] == leg.duration_ms()
        assert body["transport"] == {"pstn": "PSTN", "voip": "VoIP"}[leg.network_type]
        assert ("recording" in body) == bool(leg.extra.get("recording_url"))


@settings(deadline=None)
@given(legs(), legs())
def test_every_call_record_validates(first: Leg, second: Leg) -> None:
    second.leg_sid = "2QYATxQ9t4UKcUwcqJClSa9OEZ500000"
    second.date_created = T0.replace(minute=9)
    call = Call.of([first, second])
    for view in ringcentral.VIEWS:
        body = ringcentral.render_call(call, URI, view)
        validate(RECORD_SCHEMA, body)
        json.loads(dumps(body))
        if view == ringcentral.DETAILED:
            assert [leg["master"] for leg in body["legs"]] == [True, False]
            assert body["result"] == body["legs"][0]["result"]
        else:
            assert "legs" not in body


def test_record_billing_sums_prices_in_one_currency() -> None:
    first = make_leg((LegState.TERMINAL, T.COMPLETED))
    second = make_leg((LegState.TERMINAL, T.COMPLETED), contact="+14155550123", contact_e164="+14155550123")
    second.leg_sid, second.date_created = "2QYATxQ9t4UKcUwcqJClSa9OEZ500000", T0.replace(minute=5)
    first.extra.update(price="0.01000", price_unit="USD")
    second.extra.update(price="0.02500", price_unit="USD")
    body = ringcentral.render_call(Call.of([first, second]), URI)
    assert body["billing"]["costPurchased"] == Decimal("0.03500")
    second.extra["price_unit"] = "INR"
    assert "billing" not in ringcentral.render_call(Call.of([first, second]), URI)


def test_call_log_page() -> None:
    leg = make_leg((LegState.TERMINAL, T.COMPLETED))
    record = ringcentral.render_call(Call.of([leg]), URI, ringcentral.SIMPLE)
    page = ringcentral.render_call_log(
        [record], "https://legato.example.com/call-log", page=2, per_page=1, total=3
    )
    assert page["paging"] == {
        "page": 2,
        "perPage": 1,
        "totalPages": 3,
        "totalElements": 3,
        "pageStart": 1,
        "pageEnd": 1,
    }
    assert page["records"] == [record]
    # RingCentral's CallLogResponse requires `navigation`: the pages around this one, by uri
    assert page["navigation"] == {
        "firstPage": {"uri": "https://legato.example.com/call-log?page=1"},
        "previousPage": {"uri": "https://legato.example.com/call-log?page=1"},
        "nextPage": {"uri": "https://legato.example.com/call-log?page=3"},
        "lastPage": {"uri": "https://legato.example.com/call-log?page=3"},
    }
    last = ringcentral.render_call_log([], "https://h/call-log?perPage=5&page=1&view=Simple", 1, 5, 0)
    assert last["navigation"] == {"firstPage": {"uri": "https://h/call-log?perPage=5&view=Simple&page=1"},
                                  "lastPage": {"uri": "https://h/call-log?perPage=5&view=Simple&page=1"}}
