"""Bridges and data centres end to end: rules, events, end_on_exit, call_sid, co-location, dc selection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.legato_server import Api, LegatoServer

HUMAN = "09163816621"
BRIDGE_ENDPOINT = "http://127.0.0.1:9/bridge-events"


def data(response: Any) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return response.json()["response"]["data"]


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["response"]["error_data"]


def connected_leg(api: Api, **fields: Any) -> dict[str, Any]:
    leg = data(api.create_leg(HUMAN, **fields))
    assert api.wait_state(leg["leg_sid"], "connected")["state"] == "connected"
    return api.leg(leg["leg_sid"])


def bridge(api: Api, *leg_sids: str, **fields: Any) -> Any:
    return api.http.post(api.base + "/bridges", json={"leg_sids": list(leg_sids), **fields})


def bridge_events(api: Api, bridge_sid: str) -> list[dict[str, Any]]:
    return data(api.http.get(f"{api.base}/bridges/{bridge_sid}/external-events"))["events"]


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_name"] for e in events]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("bridges")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                          args=["--dc", "101=nso-a,nso-b", "--dc", "102=nso-c"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server: LegatoServer) -> Api:
    return Api(server, server.create_account())


def test_bridge_events_call_sid_and_end_on_exit(api: Api) -> None:
    a = connected_leg(api)
    b = connected_leg(api, reference_leg_sid=a["leg_sid"])
    assert (b["dc_code"], b["nso_code"], b["call_sid"]) == (a["dc_code"], a["nso_code"], a["call_sid"])
    created = bridge(api, a["leg_sid"], b["leg_sid"], bridge_event_endpoint=BRIDGE_ENDPOINT, end_on_exit=True)
    assert created.status_code == 201, created.text
    br = created.json()["response"]["data"]
    assert (br["state"], br["leg_sids"], br["call_sid"], br["dc_code"]) == \
        ("active", [a["leg_sid"], b["leg_sid"]], a["call_sid"], a["dc_code"])
    assert data(api.http.get(f"{api.base}/bridges/{br['bridge_sid']}"))["state"] == "active"

    api.action(a["leg_sid"], action="hangup")
    ended_b = api.wait_terminal(b["leg_sid"])
    assert (ended_b["terminal_status"], ended_b["hangup_cause"]) == ("completed", "bridge_ended")
    view = data(api.http.get(f"{api.base}/bridges/{br['bridge_sid']}"))
    assert (view["state"], view["end_reason"], view["ended_by_leg_sid"]) == ("terminated", "leg_ended", a["leg_sid"])

    for leg, reason in ((a, "leg_ended"), (b, "bridge_ended")):
        events = api.events(leg["leg_sid"])
        completed = ["bridge_completed"] if leg is b else []  # the leg still up when the bridge ended
        assert names(events) == ["leg_connecting", "leg_ringing", "leg_answered", "leg_joined_bridge",
                                 "leg_left_bridge", *completed, "leg_terminated"]
        joined, left = events[3]["payload"], events[4]["payload"]
        assert joined["event_type"] == "leg_action_event"
        assert joined["event_data"]["data"]["bridge_sid"] == br["bridge_sid"]
        assert joined["event_data"]["data"]["call_sid"] == a["call_sid"]
        assert left["event_data"]["data"]["reason"] == reason
        assert events[3]["endpoint"] == leg["leg_event_endpoint"]
        if completed:
            data_ = events[5]["payload"]["event_data"]["data"]
            assert (data_["bridge_role"], data_["ended_by_leg_sid"], data_["reason"]) == \
                ("target", a["leg_sid"], "bridge_ended")

    events = bridge_events(api, br["bridge_sid"])
    assert names(events) == ["bridge_created", "leg_joined_bridge", "leg_joined_bridge", "leg_left_bridge",
                             "leg_left_bridge", "bridge_terminated"]
    assert [e["sequence"] for e in events] == list(range(1, 7))
    assert {e["endpoint"] for e in events} == {BRIDGE_ENDPOINT}
    assert [e["payload"]["event_data"]["data"].get("leg_sid") for e in events[1:5]] == \
        [a["leg_sid"], b["leg_sid"], a["leg_sid"], b["leg_sid"]]
    assert events[-1]["payload"]["event_data"]["data"]["state"] == "terminated"


def test_stop_keeps_legs_up_and_joins_calls(api: Api) -> None:
    c = connected_leg(api)
    e = connected_leg(api, requested_dc_code=c["dc_code"])
    assert e["call_sid"] != c["call_sid"]
    br = data(bridge(api, c["leg_sid"], e["leg_sid"], end_on_exit=False))
    assert api.leg(e["leg_sid"])["call_sid"] == c["call_sid"]  # a bridged leg joins the other leg's call
    stopped = api.http.post(f"{api.base}/bridges/{br['bridge_sid']}/actions", json={"action": "stop"})
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["response"]["data"]["end_reason"] == "stopped"
    assert {api.leg(c["leg_sid"])["state"], api.leg(e["leg_sid"])["state"]} == {"connected"}
    again = api.http.post(f"{api.base}/bridges/{br['bridge_sid']}/actions", json={"action": "stop"})
    assert error(again, 409)["code"] == "conflict"
    left, completed = (event["payload"] for event in api.events(e["leg_sid"])[-2:])
    assert (left["event_name"], left["event_data"]["data"]["reason"]) == ("leg_left_bridge", "bridge_stopped")
    assert (completed["event_name"], completed["event_data"]["data"]["bridge_role"]) == ("bridge_completed", "target")

    second = data(bridge(api, c["leg_sid"], e["leg_sid"], end_on_exit=False))  # free again: can re-bridge
    api.action(e["leg_sid"], action="hangup")
    assert api.leg(c["leg_sid"])["state"] == "connected"  # without end_on_exit the other leg stays
    assert data(api.http.get(f"{api.base}/bridges/{second['bridge_sid']}"))["state"] == "terminated"
    api.action(c["leg_sid"], action="hangup")


def test_bridge_rules(api: Api) -> None:
    a = connected_leg(api)
    b = connected_leg(api, reference_leg_sid=a["leg_sid"])
    c = connected_leg(api, reference_leg_sid=a["leg_sid"])
    far = connected_leg(api, requested_dc_code="102" if a["dc_code"] == "101" else "101")
    ringing = data(api.create_leg("09163810002", reference_leg_sid=a["leg_sid"]))
    api.wait_state(ringing["leg_sid"], "ringing")

    message = error(bridge(api, a["leg_sid"], far["leg_sid"]), 409)["message"]
    assert "not co-located" in message
    assert "ringing" in error(bridge(api, a["leg_sid"], ringing["leg_sid"]), 409)["message"]
    assert error(bridge(api, a["leg_sid"], a["leg_sid"]), 400)["field"] == "leg_sids"
    assert error(bridge(api, a["leg_sid"]), 400)["field"] == "leg_sids"
    assert error(bridge(api, a["leg_sid"], "nope"), 404)["field"] == "leg_sids"
    assert error(bridge(api, a["leg_sid"], b["leg_sid"], bridge_event_endpoint="ftp://x"), 400)["field"] == \
        "bridge_event_endpoint"
    metadata = bridge(api, a["leg_sid"], b["leg_sid"], bridge_event_endpoint="http://169.254.169.254/latest")
    assert error(metadata, 400)["field"] == "bridge_event_endpoint"
    br = data(bridge(api, a["leg_sid"], b["leg_sid"]))
    assert "already in bridge " + br["bridge_sid"] in error(bridge(api, c["leg_sid"], b["leg_sid"]), 409)["message"]

    for leg in (a, b, c, far, ringing):
        api.action(leg["leg_sid"], action="hangup")
    assert "terminal" in error(bridge(api, c["leg_sid"], far["leg_sid"]), 409)["message"]
    assert api.http.get(f"{api.base}/bridges/BRnope").status_code == 404


def test_other_accounts_cannot_see_or_use_bridges(server: LegatoServer, api: Api) -> None:
    a = connected_leg(api)
    b = connected_leg(api, reference_leg_sid=a["leg_sid"])
    br = data(bridge(api, a["leg_sid"], b["leg_sid"]))
    other = Api(server, server.create_account())
    assert other.http.get(f"{other.base}/bridges/{br['bridge_sid']}").status_code == 404
    assert error(bridge(other, a["leg_sid"], b["leg_sid"]), 404)["field"] == "leg_sids"
    api.action(a["leg_sid"], action="hangup")
    api.wait_terminal(b["leg_sid"])


def test_requested_codes(api: Api) -> None:
    assert error(api.create_leg(HUMAN, requested_dc_code="999"), 400)["field"] == "requested_dc_code"
    assert error(api.create_leg(HUMAN, requested_nso_code="nso-x"), 400)["field"] == "requested_nso_code"
    assert error(api.create_leg(HUMAN, requested_dc_code="102", requested_nso_code="nso-a"), 400)["field"] == \
        "requested_nso_code"
    leg = data(api.create_leg("09163810003", requested_nso_code="nso-b"))
    assert (leg["dc_code"], leg["nso_code"]) == ("101", "nso-b")
    leg = data(api.create_leg("09163810003", requested_dc_code="102"))
    assert (leg["dc_code"], leg["nso_code"]) == ("102", "nso-c")


def test_least_loaded_data_centre(tmp_path: Any) -> None:
    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}",
                          args=["--dc", "201=n1", "--dc", "202=n2"]).start()
    try:
        api = Api(server, server.create_account())
        first = data(api.create_leg(HUMAN))
        second = data(api.create_leg(HUMAN))
        third = data(api.create_leg(HUMAN))
        assert [first["dc_code"], second["dc_code"], third["dc_code"]] == ["201", "202", "201"]
        fourth = data(api.create_leg(HUMAN, reference_leg_sid=first["leg_sid"]))
        assert fourth["dc_code"] == "201"  # co-located with its reference leg, though 201 is busier
        assert data(api.create_leg(HUMAN))["dc_code"] == "202"
    finally:
        server.stop()


def test_restart_ends_active_bridges(tmp_path: Any) -> None:
    import signal

    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}").start()
    try:
        api = Api(server, server.create_account())
        a = connected_leg(api)
        b = connected_leg(api, reference_leg_sid=a["leg_sid"])
        br = data(bridge(api, a["leg_sid"], b["leg_sid"], bridge_event_endpoint=BRIDGE_ENDPOINT))
        server.stop(signal.SIGKILL)
        server.start()
        view = data(api.http.get(f"{api.base}/bridges/{br['bridge_sid']}"))
        assert (view["state"], view["end_reason"]) == ("terminated", "platform_restart")
        assert names(bridge_events(api, br["bridge_sid"]))[-1] == "bridge_terminated"
        for leg in (a, b):
            assert api.leg(leg["leg_sid"])["hangup_cause"] == "platform_restart"
            assert names(api.events(leg["leg_sid"]))[-2:] == ["leg_left_bridge", "leg_terminated"]
    finally:
        server.stop()
