"""Graceful drain: SIGTERM with live legs ends each one exactly once, and its events reach the endpoint."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.events.receivers import HttpReceiver
from tests.legato_server import Api, LegatoServer

HUMAN, NEVER_ANSWERS = "09163816621", "09163810002"
DRAIN = {"LEGATO_DRAIN_TIMEOUT": "4", "LEGATO_DRAIN_FLUSH_TIMEOUT": "20"}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    made = HttpReceiver()
    yield made
    made.close()


def sid(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]


def terminals(receiver: HttpReceiver, leg_sid: str) -> list[dict]:
    return [e for e in receiver.events_of(leg_sid) if e["event_name"] == "leg_terminated"]


def test_sigterm_drains_live_legs_and_delivers_every_terminal_event_before_exit(make_server, receiver) -> None:
    server: LegatoServer = make_server(env=DRAIN)
    account = server.create_account("--exophone", "08030752400", "--max-concurrent", "3")
    server.start()
    api = Api(server, account)
    up = sid(api.create_leg(HUMAN, leg_event_endpoint=receiver.url))
    hung_up_later = sid(api.create_leg(HUMAN, leg_event_endpoint=receiver.url))
    ringing = sid(api.create_leg(NEVER_ANSWERS, leg_event_endpoint=receiver.url, timeout=3600, ring_timeout=3600))
    starts_later = sid(api.create_leg(HUMAN, leg_event_endpoint=receiver.url))  # over max_concurrent: enqueued
    waiting = sid(api.create_leg(HUMAN, leg_event_endpoint=receiver.url))
    assert api.wait_state(up, "connected")["state"] == "connected"
    assert api.wait_state(hung_up_later, "connected")["state"] == "connected"
    assert api.wait_state(ringing, "ringing")["state"] == "ringing"
    assert api.leg(starts_later)["state"] == api.leg(waiting)["state"] == "enqueued"

    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    refused = api.create_leg(HUMAN, leg_event_endpoint=receiver.url)
    while refused.status_code == 202:  # the signal may land a moment after it was sent
        refused = api.create_leg(HUMAN, leg_event_endpoint=receiver.url)
    assert refused.status_code == 503
    assert refused.json()["response"]["error_data"]["code"] == "draining"
    assert int(refused.headers["Retry-After"]) >= 1
    ready = api.http.get("/readyz")
    assert ready.status_code == 503 and ready.json()["response"]["data"]["checks"]["drain"] == "draining"
    assert api.http.get("/healthz").status_code == 200  # alive while draining

    # live legs keep working during the drain: the application may still hang one up itself, and the
    # slot it frees goes to the first enqueued leg
    assert api.action(hung_up_later, action="hangup").status_code == 202
    assert server.process.wait(60) == 0

    legs = (up, hung_up_later, ringing, starts_later, waiting)
    for leg_sid in legs:
        assert len(terminals(receiver, leg_sid)) == 1, receiver.events_of(leg_sid)
    ended = {leg_sid: terminals(receiver, leg_sid)[0]["event_data"]["data"] for leg_sid in legs}
    outcome = {leg_sid: (d["terminal_status"], d["hangup_cause"], d["hangup_source"]) for leg_sid, d in ended.items()}
    assert outcome[hung_up_later] == ("completed", "hangup_requested", "platform")
    assert outcome[up] == outcome[starts_later] == ("completed", "platform_shutdown", "platform")
    assert outcome[ringing] == outcome[waiting] == ("canceled", "platform_shutdown", "platform")
    log = (server.workdir / f"server-{server.port}.log").read_text()
    assert "drain finished" in log

    server.process = None
    server.start()  # nothing is left for the next start to reconcile
    api = Api(server, account)
    for leg_sid in legs:
        events = api.events(leg_sid)
        assert [e["event_name"] for e in events].count("leg_terminated") == 1
        assert all(e["delivery"]["status"] == "delivered" for e in events)


def test_second_sigterm_exits_at_once_and_the_next_start_reconciles(make_server, receiver) -> None:
    server: LegatoServer = make_server(env={"LEGATO_DRAIN_TIMEOUT": "600"})
    account = server.create_account("--exophone", "08030752400")
    server.start()
    api = Api(server, account)
    up = sid(api.create_leg(HUMAN, leg_event_endpoint=receiver.url))
    assert api.wait_state(up, "connected")["state"] == "connected"
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    while api.http.get("/readyz").status_code == 200:
        pass
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(60)  # far less than the 600 s drain
    except subprocess.TimeoutExpired:
        pytest.fail("a second SIGTERM did not end the server")
    server.process = None
    server.start()
    leg = Api(server, account).wait_terminal(up)
    assert (leg["terminal_status"], leg["hangup_cause"]) == ("failed", "platform_restart")
