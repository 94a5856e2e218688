"""AMD modes end to end: the sync and async event sequences and their timing on the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.legato_server import Api, LegatoServer

MACHINE = "09163810004"


def seconds(event: dict[str, Any]) -> float:
    stamp = event["payload"]["event_timestamp"]
    return stamp["seconds"] + stamp["nanos"] / 1e9


def answer_time(leg: dict[str, Any]) -> float:
    return datetime.fromisoformat(leg["answer_time"][:26]).replace(tzinfo=UTC).timestamp()


def wait_for(api: Api, leg_sid: str, name: str) -> list[dict[str, Any]]:
    """The leg's events once `name` is among them."""
    return api.wait_event(leg_sid, name, seconds=15)


def start(tmp_path_factory: pytest.TempPathFactory, **env: str) -> LegatoServer:
    workdir = tmp_path_factory.mktemp("amd")
    return LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                        time_scale=10, env=env).start()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    server = start(tmp_path_factory, LEGATO_SANDBOX_AMD_AFTER="2.5")
    yield Api(server, server.create_account())
    server.stop()


def test_sync_amd_holds_leg_answered_for_the_verdict(api: Api) -> None:
    leg_sid = api.create_leg(MACHINE, amd_enable=True).json()["response"]["data"]["leg_sid"]
    events = wait_for(api, leg_sid, "leg_answered")
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered"]
    answered = events[2]["payload"]
    assert answered["event_data"]["data"]["answered_by"] == "MACHINE"
    leg = api.leg(leg_sid)
    assert seconds(events[2]) - answer_time(leg) == pytest.approx(2.5, abs=0.4)  # the detection time
    api.action(leg_sid, action="hangup")
    assert [e["event_name"] for e in api.events(leg_sid)][3:] == ["leg_terminated"]


def test_async_amd_answers_at_once_then_reports(api: Api) -> None:
    leg_sid = api.create_leg(MACHINE, amd_enable=True, async_amd=True).json()["response"]["data"]["leg_sid"]
    events = wait_for(api, leg_sid, "amd_result_success")
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered",
                                                 "amd_result_success"]
    leg = api.leg(leg_sid)
    assert seconds(events[2]) - answer_time(leg) == pytest.approx(0, abs=0.4)
    assert seconds(events[3]) - seconds(events[2]) == pytest.approx(2.5, abs=0.4)
    assert events[2]["payload"]["event_data"]["data"]["answered_by"] is None
    assert (events[3]["event_type"], events[3]["payload"]["event_data"]["data"]["answered_by"]) == \
        ("leg_action_event", "MACHINE")
    api.action(leg_sid, action="hangup")


def test_sync_amd_cap_sends_leg_answered_without_a_verdict(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start(tmp_path_factory, LEGATO_SANDBOX_AMD_AFTER="4", LEGATO_AMD_SYNC_CAP="1.5")
    try:
        api = Api(server, server.create_account())
        leg_sid = api.create_leg(MACHINE, amd_enable=True).json()["response"]["data"]["leg_sid"]
        events = wait_for(api, leg_sid, "amd_result_success")
        assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered",
                                                     "amd_result_success"]
        leg = api.leg(leg_sid)
        assert seconds(events[2]) - answer_time(leg) == pytest.approx(1.5, abs=0.4)  # the cap
        assert events[2]["payload"]["event_data"]["data"]["answered_by"] is None
        assert seconds(events[3]) - answer_time(leg) == pytest.approx(4, abs=0.4)  # the late verdict
        assert events[3]["payload"]["event_data"]["data"]["answered_by"] == "MACHINE"
        api.action(leg_sid, action="hangup")
    finally:
        server.stop()


def test_amd_parameters_account_then_leg_overrides(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    account = server.create_account("--sid", "amdco", "--exophone", "08030752400")
    server.cli("accounts", "update", "amdco", "--amd-param", "maximum_number_of_words=4",
               "--amd-param", "greeting_ms=2500")
    with pytest.raises(RuntimeError) as bad:
        server.cli("accounts", "update", "amdco", "--amd-param", "colour=4")
    assert "amd_params.colour" in str(bad.value)
    server.start()
    api = Api(server, account)
    shown = api.http.get(api.base).json()["response"]["data"]
    assert shown["amd_params"] == {"maximum_number_of_words": 4, "greeting_ms": 2500}
    leg = api.create_leg("09163816621", amd_enable=True, amd_params={"greeting_ms": 1800}).json()
    assert leg["response"]["data"]["amd_params"] == {"maximum_number_of_words": 4, "greeting_ms": 1800}
    unknown = api.create_leg("09163816621", amd_enable=True, amd_params={"nope": 1})
    assert unknown.status_code == 400
    assert unknown.json()["response"]["error_data"]["field"] == "amd_params.nope"
    negative = api.create_leg("09163816621", amd_enable=True, amd_params={"greeting_ms": -5})
    assert negative.status_code == 400 and negative.json()["response"]["error_data"]["field"] == "amd_params"
    detector = api.create_leg("09163816621", amd_enable=True, amd_params={"detector": "psychic"})
    assert detector.status_code == 400 and "detector must be one of adaptive, app_amd" in detector.text
    anchor = api.create_leg("09163816621", amd_enable=True, amd_params={"detector": "app_amd"}).json()
    assert anchor["response"]["data"]["amd_params"]["detector"] == "app_amd"
    without = api.create_leg("09163816621", amd_params={"greeting_ms": 1800})
    assert without.status_code == 400 and without.json()["response"]["error_data"]["field"] == "amd_params"
