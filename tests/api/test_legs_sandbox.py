"""Every sandbox magic number end to end through the HTTP API (time scale 50)."""

from __future__ import annotations

import pytest

from tests.legato_server import Api


def names(api: Api, leg_sid: str) -> list[str]:
    events = api.events(leg_sid)
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["event_sid"] for e in events}) == len(events)
    return [e["event_name"] for e in events]


@pytest.mark.parametrize(("number", "status", "code", "cause", "expected_events"), [
    ("09163810001", "busy", 17, "user_busy", ["leg_connecting", "leg_terminated"]),
    ("09163810003", "failed", 1, "unallocated_number", ["leg_connecting", "leg_terminated"]),
    ("09163810006", "failed", 102, "setup_timeout", ["leg_connecting", "leg_terminated"]),
    ("09163810008", "failed", 41, "temporary_failure", ["leg_connecting", "leg_terminated"]),
    ("09163810007", "completed", 16, "normal_clearing",
     ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]),
])
def test_magic_number_outcome(api: Api, number: str, status: str, code: int, cause: str,
                              expected_events: list[str]) -> None:
    created = api.create_leg(number, custom_param="order-42")
    assert created.status_code == 202, created.text
    leg = api.wait_terminal(created.json()["response"]["data"]["leg_sid"])
    assert (leg["state"], leg["terminal_status"], leg["hangup_cause_code"], leg["hangup_cause"]) == \
        ("terminal", status, code, cause)
    assert names(api, leg["leg_sid"]) == expected_events
    terminated = api.events(leg["leg_sid"])[-1]["payload"]
    assert terminated["event_data"]["data"]["custom_param"] == "order-42"
    assert terminated["event_data"]["data"]["terminal_status"] == status


def test_far_end_hangup_after_five_seconds_is_completed_by_callee(api: Api) -> None:
    leg_sid = api.create_leg("09163810007").json()["response"]["data"]["leg_sid"]
    leg = api.wait_terminal(leg_sid)
    assert leg["hangup_source"] == "callee"
    assert leg["duration"] == 5  # the far end hangs up 5 s after it answered (the leg stamps both ends when it
    # handles them, so under load duration_ms can read a few ms either side of 5,000)


def test_rings_and_never_answers_ends_no_answer_by_ring_timeout(api: Api) -> None:
    leg_sid = api.create_leg("09163810002", ring_timeout=5, timeout=60).json()["response"]["data"]["leg_sid"]
    leg = api.wait_terminal(leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"], leg["hangup_cause_code"]) == ("no-answer", "ring_timeout", 19)
    assert names(api, leg_sid) == ["leg_connecting", "leg_ringing", "leg_terminated"]


def test_overall_timeout_ends_no_answer(api: Api) -> None:
    leg_sid = api.create_leg("09163810002", timeout=3, ring_timeout=60).json()["response"]["data"]["leg_sid"]
    leg = api.wait_terminal(leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"]) == ("no-answer", "timeout")


@pytest.mark.parametrize(("number", "verdict"), [("09163810004", "MACHINE"), ("09163810005", "BEEP"),
                                                  ("09163816621", "HUMAN")])
def test_sync_amd_holds_answer_until_verdict(api: Api, number: str, verdict: str) -> None:
    leg_sid = api.create_leg(number, amd_enable=True).json()["response"]["data"]["leg_sid"]
    api.wait_state(leg_sid, "connected")
    answered = [e for e in api.wait_event(leg_sid, "leg_answered", seconds=10) if e["event_name"] == "leg_answered"]
    assert len(answered) == 1
    assert answered[0]["payload"]["event_data"]["data"]["answered_by"] == verdict
    leg = api.leg(leg_sid)
    assert leg["answered_by"] == verdict
    api.action(leg_sid, action="hangup")


def test_async_amd_answers_first_then_reports(api: Api) -> None:
    leg_sid = api.create_leg("09163810004", amd_enable=True, async_amd=True).json()["response"]["data"]["leg_sid"]
    events = api.wait_event(leg_sid, "amd_result_success", seconds=10)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered",
                                                 "amd_result_success"]
    assert events[2]["payload"]["event_data"]["data"]["answered_by"] is None
    assert events[3]["event_type"] == "leg_action_event"
    assert events[3]["payload"]["event_data"]["data"]["answered_by"] == "MACHINE"
    api.action(leg_sid, action="hangup")


def test_human_answers_then_api_hangup_completes(api: Api) -> None:
    leg_sid = api.create_leg("+14155552671").json()["response"]["data"]["leg_sid"]
    api.wait_state(leg_sid, "connected")
    response = api.action(leg_sid, action="hangup")
    assert response.status_code == 202, response.text
    leg = response.json()["response"]["data"]
    assert (leg["state"], leg["terminal_status"], leg["hangup_source"], leg["hangup_cause"]) == \
        ("terminal", "completed", "platform", "hangup_requested")
    assert names(api, leg_sid) == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
    again = api.action(leg_sid, action="hangup")
    assert again.status_code == 409
    assert again.json()["response"]["error_data"]["code"] == "conflict"


def test_hangup_before_answer_cancels(api: Api) -> None:
    leg_sid = api.create_leg("09163810002").json()["response"]["data"]["leg_sid"]
    api.wait_state(leg_sid, "ringing")
    leg = api.action(leg_sid, action="hangup").json()["response"]["data"]
    assert leg["terminal_status"] == "canceled"
    assert names(api, leg_sid)[-1] == "leg_terminated"


def test_time_limit_ends_completed_by_platform(api: Api) -> None:
    leg_sid = api.create_leg("09163816621", time_limit=10).json()["response"]["data"]["leg_sid"]
    leg = api.wait_terminal(leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"], leg["hangup_source"]) == ("completed", "time_limit",
                                                                                   "platform")
    assert leg["duration"] == 10


def test_sip_uri_uses_user_part_magic(api: Api) -> None:
    leg_sid = api.create_leg("sip:+919163810001@carrier.example", network_type="voip") \
        .json()["response"]["data"]["leg_sid"]
    assert api.wait_terminal(leg_sid)["terminal_status"] == "busy"


def test_inbound_leg_rings_and_is_answered(api: Api) -> None:
    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752400"})
    assert response.status_code == 202, response.text
    leg = response.json()["response"]["data"]
    assert (leg["direction"], leg["state"]) == ("inbound", "ringing")
    answered = api.action(leg["leg_sid"], action="answer")
    assert answered.status_code == 202
    assert answered.json()["response"]["data"]["state"] == "connected"
    api.action(leg["leg_sid"], action="hangup")
    assert names(api, leg["leg_sid"]) == ["leg_incoming", "leg_answered", "leg_terminated"]


def test_inbound_leg_rejected_busy(api: Api) -> None:
    leg = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752400"}) \
        .json()["response"]["data"]
    rejected = api.action(leg["leg_sid"], action="hangup", reason="busy").json()["response"]["data"]
    assert (rejected["terminal_status"], rejected["hangup_cause_code"]) == ("busy", 17)


def test_inbound_unanswered_ends_no_answer(api: Api) -> None:
    leg = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752400"}) \
        .json()["response"]["data"]
    ended = api.wait_terminal(leg["leg_sid"])
    assert (ended["terminal_status"], ended["hangup_cause"]) == ("no-answer", "ring_timeout")


def test_inbound_to_foreign_number_is_refused(api: Api) -> None:
    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030750000"})
    assert response.status_code == 400
    assert response.json()["response"]["error_data"]["field"] == "to"
