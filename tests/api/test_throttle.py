"""CPS throughput control end to end: rate and priority on the event timestamps, queue bounds, 429."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.legato_server import Api, LegatoServer

SECOND = 1_000_000_000
FAILS_FAST = "09163810003"  # 404 after one second of clock time: frees its slot quickly
HUMAN = "09163816621"  # answered, stays up


def nanos(event: dict[str, Any]) -> int:
    stamp = event["payload"]["event_timestamp"]
    return stamp["seconds"] * SECOND + stamp["nanos"]


def iso_nanos(value: str) -> int:
    moment = datetime.fromisoformat(value[:26]).replace(tzinfo=UTC)
    return int(moment.timestamp()) * SECOND + moment.microsecond * 1000


def connecting_at(api: Api, leg_sid: str) -> int:
    return next(nanos(e) for e in api.events(leg_sid) if e["event_name"] == "leg_connecting")


def data(response: Any) -> dict[str, Any]:
    assert response.status_code < 300, response.text
    return response.json()["response"]["data"]


def account_view(api: Api) -> dict[str, Any]:
    return data(api.http.get(api.base))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("throttle")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                          env={"LEGATO_QUEUE_MAX_LENGTH": "5", "LEGATO_ACCOUNT_TRUNK_CPS": json.dumps({"ACx:y": 3})},
                          args=["--queue-max-wait", "20", "--trunk-cps", "ACtrunk:sandbox=1"]).start()
    yield server
    server.stop()


def test_rate_is_never_exceeded_and_high_goes_first(tmp_path: Path) -> None:
    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}",
                          time_scale=20).start()
    try:
        account = server.create_account("--cps", "2")
        api = Api(server, account)
        clients = [Api(server, account) for _ in range(4)]
        priorities = ["normal", "high", "normal", "normal", "high"] * 4

        def create(n: int) -> dict[str, Any]:
            return data(clients[n % 4].create_leg(FAILS_FAST, priority=priorities[n]))

        with ThreadPoolExecutor(4) as pool:
            legs = list(pool.map(create, range(len(priorities))))
        assert sum(leg["state"] == "enqueued" for leg in legs) >= 5
        assert account_view(api)["queue_depth"] > 0
        done = {leg["leg_sid"]: api.wait_terminal(leg["leg_sid"], 30) for leg in legs}
        assert all(leg["state"] == "terminal" for leg in done.values())
        starts = sorted((connecting_at(api, sid), sid) for sid in done)
        times = [t for t, _ in starts]
        assert all(b - a >= SECOND // 2 for a, b in itertools.pairwise(times)), "faster than 2 cps"
        assert all(times[i + 2] - times[i] >= SECOND for i in range(len(times) - 2)), "3 starts in one second"
        # no normal leg started while a high leg created before that moment was still waiting
        for at, sid in starts:
            if done[sid]["priority"] == "normal":
                for other_at, other in starts:
                    if done[other]["priority"] == "high" and iso_nanos(done[other]["date_created"]) < at:
                        assert other_at <= at, f"normal {sid} started before waiting high {other}"
        assert account_view(api)["queue_depth"] == 0
    finally:
        server.stop()


def test_priority_order_when_a_slot_frees(server: LegatoServer) -> None:
    api = Api(server, server.create_account("--max-concurrent", "1"))
    blocker = data(api.create_leg(HUMAN))
    api.wait_state(blocker["leg_sid"], "connected")
    legs = {}
    for name, priority in [("n1", "normal"), ("n2", "normal"), ("h1", "high"), ("n3", "normal"), ("h2", "high")]:
        leg = data(api.create_leg(FAILS_FAST, priority=priority))
        assert leg["state"] == "enqueued"
        legs[name] = leg["leg_sid"]
    view = account_view(api)
    assert view["queue_depth"] == 5
    assert view["limits"]["max_concurrent"] == 1 and view["limits"]["queue_max_length"] == 5
    api.action(blocker["leg_sid"], action="hangup")
    for sid in legs.values():
        assert api.wait_terminal(sid, 30)["state"] == "terminal"
    assert sorted(legs, key=lambda name: connecting_at(api, legs[name])) == ["h1", "h2", "n1", "n2", "n3"]


def test_queue_bounds_429_timeout_and_hangup(server: LegatoServer) -> None:
    api = Api(server, server.create_account("--max-concurrent", "1"))
    blocker = data(api.create_leg(HUMAN))
    api.wait_state(blocker["leg_sid"], "connected")
    waiting = [data(api.create_leg(HUMAN))["leg_sid"] for _ in range(5)]
    refused = api.create_leg(HUMAN)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    error = refused.json()["response"]["error_data"]
    assert error["field"] == "queue_max_length" and "queue" in error["message"]
    # hanging up an enqueued leg removes it: terminal canceled, one leg_terminated, room in the queue
    hung = api.action(waiting[0], action="hangup")
    assert hung.status_code == 202, hung.text
    leg = hung.json()["response"]["data"]
    assert (leg["state"], leg["terminal_status"]) == ("terminal", "canceled")
    assert [e["event_name"] for e in api.events(waiting[0])] == ["leg_terminated"]
    assert account_view(api)["queue_depth"] == 4
    # the others wait 20 s of clock time, then fail with queue_timeout and a single leg_terminated
    for sid in waiting[1:]:
        ended = api.wait_terminal(sid, 20)
        assert (ended["terminal_status"], ended["hangup_cause"], ended["hangup_source"]) == \
            ("failed", "queue_timeout", "platform")
        events = api.events(sid)
        assert [e["event_name"] for e in events] == ["leg_terminated"]
        assert events[0]["payload"]["event_data"]["error"]["message"] == "queue_timeout"
    assert account_view(api)["queue_depth"] == 0
    assert api.leg(blocker["leg_sid"])["state"] == "connected"
    api.action(blocker["leg_sid"], action="hangup")


def test_operator_trunk_limit(server: LegatoServer) -> None:
    api = Api(server, server.create_account("--sid", "ACtrunk", "--cps", "10"))
    assert account_view(api)["limits"]["trunk_cps"] == {"sandbox": 1}
    legs = [data(api.create_leg(FAILS_FAST))["leg_sid"] for _ in range(4)]
    for sid in legs:
        api.wait_terminal(sid, 20)
    times = sorted(connecting_at(api, sid) for sid in legs)
    assert all(b - a >= SECOND for a, b in itertools.pairwise(times)), [b - a for a, b in itertools.pairwise(times)]


def test_unlimited_account_is_never_enqueued(server: LegatoServer) -> None:
    api = Api(server, server.create_account())
    legs = [data(api.create_leg(FAILS_FAST)) for _ in range(10)]
    assert {leg["state"] for leg in legs} == {"connecting"}
    assert account_view(api)["limits"] == {"cps": None, "max_concurrent": None, "trunk_cps": {"sandbox": None},
                                           "queue_max_length": 5, "queue_max_wait": 20.0}


def test_an_inbound_call_holds_a_concurrent_slot(server: LegatoServer) -> None:
    account = server.create_account("--exophone", "08030752400", "--max-concurrent", "1")
    api = Api(server, account)
    inbound = data(api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752400"}))
    assert account_view(api)["inbound_legs"] == 1
    waiting = data(api.create_leg(HUMAN))
    assert waiting["state"] == "enqueued"  # the inbound call is the account's one live leg
    assert api.action(inbound["leg_sid"], action="hangup").status_code == 202
    assert api.wait_state(waiting["leg_sid"], "connected")["state"] == "connected"
    view = account_view(api)
    assert (view["inbound_legs"], view["admitted_legs"]) == (0, 1)
    assert api.action(waiting["leg_sid"], action="hangup").status_code == 202
