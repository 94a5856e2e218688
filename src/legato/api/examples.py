"""Examples for the OpenAPI document, rendered by the same code that renders real responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from legato.dialects import formats, ringcentral
from legato.dialects.bridges import bridge_resource
from legato.dialects.conferences import conference_resource
from legato.dialects.exotel import leg_resource
from legato.domain.bridge import Bridge
from legato.domain.call import Call
from legato.domain.conference import Conference, Participant, Role
from legato.domain.leg import AnsweredBy, Direction, HangupSource, Leg, LegState, TerminalStatus

AT = datetime(2026, 5, 31, 8, 2, 32, 608752, tzinfo=UTC)
ACCOUNT, LEG, CALL, BRIDGE = "acme", "0ERnNUi0yWCJDlVdMw1xNzIrmSA00000", "0ERnNUhzJ7c4ynLpXoP0GeqPrv000000", \
    "0ERnNUnB9s1TbzkZ1Cq6o5rJ2wV00000"
BASE = f"http://127.0.0.1:8080/v2/accounts/{ACCOUNT}"


def sample_leg() -> Leg:
    """A leg that was answered by a human and hung up by the application after 42 s."""
    leg = Leg(leg_sid=LEG, account_sid=ACCOUNT, call_sid=CALL, direction=Direction.OUTBOUND,
              contact_uri="09163816621", contact_e164="+919163816621", exophone="08030752400",
              network_type="pstn", leg_event_endpoint="https://app.example.com/events", date_created=AT,
              custom_param="order-42", amd_enable=True, dc_code="101")
    leg.state, leg.terminal_status, leg.answered_by = LegState.TERMINAL, TerminalStatus.COMPLETED, AnsweredBy.HUMAN
    leg.hangup_cause_code, leg.hangup_cause, leg.hangup_source = 16, "hangup_requested", HangupSource.PLATFORM
    leg.start_time, leg.answer_time = AT, AT + timedelta(seconds=3)
    leg.end_time = leg.date_updated = AT + timedelta(seconds=45)
    leg.sip_response_code, leg.sip_reason, leg.event_sequence = 200, "OK", 4
    leg.extra["amd"] = {"answered_by": "HUMAN", "decision_ms": 1480, "greeting_ms": 900, "words": 2}
    return leg


def event_view() -> dict[str, Any]:
    """One event as listed by external-events, with one delivery attempt."""
    leg = leg_resource(sample_leg())
    data = {k: leg[k] for k in ("account_sid", "leg_sid", "call_sid", "state", "terminal_status", "hangup_cause")}
    return {"sequence": 4, "event_sid": "0ERnNUi1BmMmAxA8ooYRWCPS1AN00004", "event_name": "leg_terminated",
            "event_type": "leg_lifecycle_event",
            "payload": {"event_sid": "0ERnNUi1BmMmAxA8ooYRWCPS1AN00004", "event_type": "leg_lifecycle_event",
                        "event_name": "leg_terminated", "event_timestamp": {"seconds": 1780214597, "nanos": 0},
                        "sequence": 4, "event_data": {"data": data, "error": None}},
            "endpoint": "https://app.example.com/events",
            "delivery": {"status": "delivered", "attempts": 1, "next_attempt_at": None,
                         "delivered_at": "2026-05-31T08:03:17.650000000Z"},
            "attempts": [{"attempt": 1, "attempted_at": "2026-05-31T08:03:17.612000000Z",
                          "endpoint": "https://app.example.com/events", "outcome": "delivered", "status_code": 200,
                          "status": "OK", "latency_ms": 38, "error": None}]}


def sample_bridge() -> dict[str, Any]:
    bridge = Bridge(bridge_sid=BRIDGE, account_sid=ACCOUNT, call_sid=CALL, dc_code="101",
                    leg_sids=[LEG, "0ERnNUjWd6PfpHZPKYeg3MAjT3H00000"],
                    bridge_event_endpoint="https://app.example.com/bridge-events", end_on_exit=True, date_created=AT)
    return bridge_resource(bridge)


RATES_CSV = "prefix,price_per_minute,currency,billing_increment,description\n91,0.0120,USD,60/60,India\n"


def account_summary() -> dict[str, Any]:
    """An account as the operator sees it (no secrets)."""
    return {"account_sid": ACCOUNT, "name": "Acme", "api_key": "key_5f0c3b1e9a7d2c4b6e8f0a1b", "disabled": False,
            "cps": 10, "max_concurrent": 100, "inbound_endpoint": "https://app.example.com/inbound",
            "default_region": "IN", "exophones": ["+918030752400"], "caller_ids": [], "amd_params": {},
            "created_at": "2026-05-01T10:00:00.000000000Z"}


def admin_examples() -> dict[str, Any]:
    """The `response.data` examples of the operator's routes."""
    summary = account_summary()
    exophones = {"account_sid": ACCOUNT, "exophones": summary["exophones"]}
    rates = {"source": "rates.csv", "imported_at": "2026-05-01T10:00:00.000000000Z", "count": 1,
             "rates": [{"prefix": "91", "price_per_minute": "0.0120", "currency": "USD", "billing_increment": "60/60",
                        "description": "India"}]}
    return {
        "createAccount": {"account_sid": ACCOUNT, "name": "Acme", "api_key": summary["api_key"],
                          "api_token": "tok_Xq3...", "webhook_secret": "whsec_Jk8...", **summary},
        "listAccounts": {"accounts": [summary]}, "updateAccount": summary, "enableAccount": summary,
        "disableAccount": {**summary, "disabled": True, "canceled_legs": 0},
        "rotateAccountToken": {"account_sid": ACCOUNT, "api_key": summary["api_key"], "api_token": "tok_Xq3..."},
        "rotateWebhookSecret": {"account_sid": ACCOUNT, "webhook_secret": "whsec_Jk8..."},
        "listExophones": exophones, "addExophone": exophones, "removeExophone": exophones,
        "importRates": rates, "listRates": rates,
    }


def sample_conference() -> dict[str, Any]:
    conference = Conference("0ERnNUoQ2b7Yx1yV3kTzq8Pw4aB00007", ACCOUNT, "support-42",
                            "https://app.example.com/conference-events", None, True, 50, True, AT, dc_code="101")
    conference.participants = [Participant(LEG, Role.PARTICIPANT, False, False, None, AT),
                               Participant("0ERnNUjWd6PfpHZPKYeg3MAjT3H00000", Role.COACH, False, False, LEG, AT)]
    return conference_resource(conference)


def account_view() -> dict[str, Any]:
    return {**account_summary(), "live_legs": 3,
            "limits": {"cps": 10, "max_concurrent": 100, "trunk_cps": {"sandbox": None}, "queue_max_length": 1000,
                       "queue_max_wait": 300.0},
            "queue_depth": 0, "admitted_legs": 3, "inbound_legs": 1}


def call_view() -> dict[str, Any]:
    return formats.render_call("exotel", Call.of([sample_leg()]), f"{BASE}/calls/{CALL}")


def call_log() -> dict[str, Any]:
    record = ringcentral.render_call(Call.of([sample_leg()]), f"{BASE}/calls/{CALL}?format=ringcentral", "Simple")
    return ringcentral.render_call_log([record], f"{BASE}/call-log", 1, 100, 1)


def data_examples() -> dict[str, Any]:
    """The `response.data` example of each operation (by operationId)."""
    leg = leg_resource(sample_leg())
    live = {**leg, "state": "connecting", "terminal_status": None, "hangup_cause": None, "end_time": None}
    return {
        "createLeg": live, "getLeg": leg, "legAction": {**leg, "action_result": None},
        "sandboxIncoming": {**live, "direction": "inbound", "state": "ringing"},
        "listLegs": {"legs": [leg], "next_cursor": "eyJkIjoiMjAyNi0wNS0zMSJ9"},
        "listLegEvents": {"events": [event_view()]}, "redeliverLegEvent": event_view(),
        "createBridge": sample_bridge(), "getBridge": sample_bridge(), "bridgeAction": sample_bridge(),
        "listBridgeEvents": {"events": [event_view()]}, "getAccount": account_view(), "getCall": call_view(),
        "getHealth": {"status": "ok", "network": "sandbox", "live_legs": 3},
        "getReadiness": {"status": "ready", "problems": {}},
        **admin_examples(),
        **dict.fromkeys(("createConference", "getConference", "addConferenceParticipant",
                         "conferenceParticipantAction", "conferenceAction"), sample_conference()),
        "listConferences": {"conferences": [sample_conference()]}, "listConferenceEvents": {"events": [event_view()]},
    }


BARE = {"getCallLog": call_log}
"""Operations whose body is not in the envelope (another provider's shape)."""
