"""Webhook delivery end to end: a real Legato server posting to real HTTP receivers on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tests.events.conftest import leg_sid_of
from tests.events.receivers import Answer, HttpReceiver, verify
from tests.legato_server import Api, LegatoServer
from tests.waiting import wait_for

SCHEMA = json.loads(resources.files("legato").joinpath("schemas/leg_event.json").read_text())


def assert_in_order(events: list[dict[str, Any]]) -> None:
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))


def delivered(api: Api, leg_sid: str, seconds: float = 10) -> list[dict[str, Any]]:
    """The leg's events once every one has a final delivery status."""
    return wait_for(lambda: api.events(leg_sid), lambda events: all(e["delivery"]["status"] != "pending"
                                                                     for e in events), seconds=seconds, what=None)


def test_answered_leg_full_sequence_signed_and_recorded(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810007", leg_event_endpoint=receiver.url,
                                               custom_param="order-7"))
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
    assert_in_order(events)
    for request in receiver.accepted():
        payload = verify(events_api.account.webhook_secret, request)  # the reference verifier accepts it
        assert request.headers["webhook-id"] == payload["event_sid"]
        assert request.headers["content-type"] == "application/json"
        jsonschema.validate(payload, SCHEMA)
        assert "api_token" not in request.body and events_api.account.webhook_secret not in request.body
    assert events[-1]["event_data"]["data"]["custom_param"] == "order-7"
    assert events[-1]["event_data"]["error"] is None
    stored = delivered(events_api, leg_sid)
    assert [e["payload"] for e in stored] == events
    for event in stored:
        assert event["delivery"]["status"] == "delivered" and event["delivery"]["delivered_at"]
        (attempt,) = event["attempts"]
        assert (attempt["outcome"], attempt["status_code"], attempt["error"]) == ("delivered", 200, None)
        assert attempt["latency_ms"] >= 0 and attempt["attempted_at"].endswith("Z")


@pytest.mark.parametrize(("number", "fields", "names", "status"), [
    ("09163810001", {}, ["leg_connecting", "leg_terminated"], "busy"),
    ("09163810003", {}, ["leg_connecting", "leg_terminated"], "failed"),
    ("09163810006", {}, ["leg_connecting", "leg_terminated"], "failed"),
    ("09163810008", {}, ["leg_connecting", "leg_terminated"], "failed"),
    ("09163810002", {"ring_timeout": 5}, ["leg_connecting", "leg_ringing", "leg_terminated"], "no-answer"),
])
def test_failure_sequences_are_delivered(events_api: Api, receivers: Callable[..., Any], number: str,
                                         fields: dict[str, Any], names: list[str], status: str) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg(number, leg_event_endpoint=receiver.url, **fields))
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == names
    assert_in_order(events)
    last = events[-1]["event_data"]
    assert last["data"]["terminal_status"] == status
    assert last["error"]["error_code"] == last["data"]["hangup_cause_code"]
    for request in receiver.accepted():
        verify(events_api.account.webhook_secret, request)


def test_canceled_leg_sequence(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810002", leg_event_endpoint=receiver.url))
    events_api.wait_state(leg_sid, "ringing")
    assert events_api.action(leg_sid, action="hangup").status_code == 202
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_terminated"]
    assert events[-1]["event_data"]["data"]["terminal_status"] == "canceled"


def test_inbound_leg_events_go_to_the_account_inbound_endpoint(events_server: LegatoServer,
                                                               receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    account = events_server.create_account("--exophone", "08030752411", "--inbound-endpoint", receiver.url)
    api = Api(events_server, account)
    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752411"})
    leg_sid = leg_sid_of(response)
    api.action(leg_sid, action="hangup", reason="busy")
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == ["leg_incoming", "leg_terminated"]
    verify(account.webhook_secret, receiver.accepted()[0])


def test_failing_receiver_gets_each_event_later_with_the_same_webhook_id(events_api: Api,
                                                                         receivers: Callable[..., Any]) -> None:
    # The first two attempts of every event fail (503, then 429 with Retry-After), the third succeeds.
    def respond(seen: int, headers: dict[str, str]) -> Answer:
        return [Answer(503), Answer(429, {"retry-after": "1"})][seen] if seen < 2 else Answer(200)

    receiver: HttpReceiver = receivers("http", respond)
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_terminated"]
    by_id: dict[str, list[int | str]] = {}
    for request in receiver.received:
        by_id.setdefault(request.headers["webhook-id"], []).append(request.answered)
        verify(events_api.account.webhook_secret, request)  # re-signed per attempt, same id
    assert list(by_id.values()) == [[503, 429, 200], [503, 429, 200]]
    # Per-leg order: nothing of event 2 went out before event 1 was delivered.
    first_of_second = next(i for i, r in enumerate(receiver.received) if r.payload["sequence"] == 2)
    assert [r.answered for r in receiver.received[:first_of_second]] == [503, 429, 200]
    stored = delivered(events_api, leg_sid)
    assert [[a["status_code"] for a in e["attempts"]] for e in stored] == [[503, 429, 200]] * 2
    assert [a["outcome"] for a in stored[0]["attempts"]] == ["retry", "retry", "delivered"]
    assert stored[0]["delivery"] == {**stored[0]["delivery"], "status": "delivered", "attempts": 3}


def test_permanent_4xx_fails_the_event_and_the_next_one_still_goes(events_api: Api,
                                                                  receivers: Callable[..., Any]) -> None:
    answers = iter([Answer(410)])  # the very first request is refused for good, every later one accepted

    def answer(seen: int, headers: dict[str, str]) -> Answer:
        return next(answers, Answer(200))

    receiver: HttpReceiver = receivers("http", answer)
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_for(lambda accepted: len(accepted) == 1)
    stored = delivered(events_api, leg_sid)
    assert [(e["event_name"], e["delivery"]["status"]) for e in stored] == [("leg_connecting", "failed"),
                                                                           ("leg_terminated", "delivered")]
    (attempt,) = stored[0]["attempts"]
    assert (attempt["outcome"], attempt["status_code"], attempt["status"]) == ("failed", 410, "Gone")
    assert len(receiver.received) == 2


def test_slow_endpoint_does_not_delay_another_endpoint(events_api: Api, receivers: Callable[..., Any]) -> None:
    held = threading.Event()
    slow: HttpReceiver = receivers("http", lambda seen, headers: Answer(200, hold=held))
    fast: HttpReceiver = receivers()
    try:
        slow_legs = [leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=slow.url))
                     for _ in range(8)]
        wait_for(lambda: len(slow.seen), lambda n: n >= 8, what="eight requests held open by the slow endpoint")
        fast_leg = leg_sid_of(events_api.create_leg("09163810007", leg_event_endpoint=fast.url))
        events = fast.wait_terminated(fast_leg, seconds=10)
        assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered",
                                                     "leg_terminated"]  # answered, hung up by the far end
        assert slow.received == []  # every leg's event of the slow endpoint is still unanswered
    finally:
        held.set()
    for leg_sid in slow_legs:
        assert [e["event_name"] for e in slow.wait_terminated(leg_sid, seconds=15)] == \
            ["leg_connecting", "leg_terminated"]


def test_redeliver_sends_the_event_again(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_terminated(leg_sid)
    first = delivered(events_api, leg_sid)[0]
    url = f"{events_api.base}/legs/{leg_sid}/external-events/{first['event_sid']}/redeliver"
    response = events_api.http.post(url)
    assert response.status_code == 202, response.text
    assert response.json()["response"]["data"]["event_sid"] == first["event_sid"]
    receiver.wait_for(lambda accepted: len(accepted) == 3)
    again = receiver.accepted()[-1]
    assert again.headers["webhook-id"] == first["event_sid"]
    assert verify(events_api.account.webhook_secret, again) == first["payload"]
    attempts = wait_for(lambda: events_api.events(leg_sid)[0]["attempts"], lambda attempts: len(attempts) >= 2,
                        seconds=5, what="the second attempt recorded")
    assert [a["outcome"] for a in attempts] == ["delivered", "delivered"]


def test_redeliver_unknown_or_foreign_event_is_404(events_server: LegatoServer, events_api: Api,
                                                  receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_terminated(leg_sid)
    event_sid = events_api.events(leg_sid)[0]["event_sid"]
    base = f"{events_api.base}/legs/{leg_sid}/external-events"
    assert events_api.http.post(f"{base}/nope/redeliver").status_code == 404
    other = Api(events_server, events_server.create_account())
    assert other.http.post(f"{other.base}/legs/{leg_sid}/external-events/{event_sid}/redeliver").status_code == 404
    response = other.http.post(f"{base}/{event_sid}/redeliver")  # someone else's account path
    assert response.status_code in (401, 403, 404)
    # a redelivery of the owner's goes out after anything queued before it (one queue per leg, in order):
    # once it arrived, nothing the refused requests could have queued is on its way
    assert events_api.http.post(f"{base}/{event_sid}/redeliver").status_code == 202
    accepted = receiver.wait_for(lambda accepted: len(accepted) >= 3)
    assert [r.headers["webhook-id"] for r in accepted[2:]] == [event_sid]


def test_timeouts_are_retried(make_server: Callable[..., LegatoServer], receivers: Callable[..., Any]) -> None:
    server = make_server(env={"LEGATO_EVENTS_ATTEMPT_TIMEOUT": "0.3", "LEGATO_EVENTS_BACKOFF_BASE": "1"}).start()
    api = Api(server, server.create_account())
    receiver: HttpReceiver = receivers("http", lambda seen, h: Answer(200, delay=0.8 if seen == 0 else 0))
    leg_sid = leg_sid_of(api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_terminated(leg_sid)
    stored = delivered(api, leg_sid)
    outcomes = [(a["outcome"], a["status_code"], a["error"]) for a in stored[0]["attempts"]]
    assert outcomes == [("retry", None, "timed out after 0.3 s"), ("delivered", 200, None)]


def test_connection_refused_is_retried_until_given_up_in_order(make_server: Callable[..., LegatoServer]) -> None:
    # Nobody listens on port 9; give up after 20 s of leg time (0.4 s real at time scale 50).
    server = make_server(env={"LEGATO_EVENTS_GIVE_UP_AFTER": "20", "LEGATO_EVENTS_BACKOFF_BASE": "2"}).start()
    api = Api(server, server.create_account())
    leg_sid = leg_sid_of(api.create_leg("09163810001", leg_event_endpoint="http://127.0.0.1:9/events"))
    stored = delivered(api, leg_sid, seconds=15)
    assert [e["delivery"]["status"] for e in stored] == ["failed", "failed"]
    for event in stored:
        attempts = event["attempts"]
        assert len(attempts) >= 2
        assert all(a["outcome"] == "retry" and a["status_code"] is None for a in attempts[:-1])
        assert attempts[-1]["outcome"] == "failed" and attempts[-1]["error"].startswith("gave up after")
    # event 2 was first tried only after event 1 was given up
    assert stored[1]["attempts"][0]["attempted_at"] >= stored[0]["attempts"][-1]["attempted_at"]


def test_a_failing_endpoint_is_probed_not_hammered(events_api: Api, receivers: Callable[..., Any]) -> None:
    """Twenty legs at an endpoint that answers 503 for a while: one event probes it on its backoff
    schedule while the others wait; once it recovers every event arrives, in order per leg."""
    recover_at = time.monotonic() + 1.5
    receiver: HttpReceiver = receivers(respond=lambda n, h: Answer(503) if time.monotonic() < recover_at
                                       else Answer(200))
    sids = [leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url)) for _ in range(20)]
    for sid in sids:
        events = receiver.wait_terminated(sid)
        assert [e["event_name"] for e in events] == ["leg_connecting", "leg_terminated"]
    refused = [r for r in receiver.received if r.answered == 503]
    # without the gate each of the 20 legs would retry on its own: 20 x ~7 attempts in 1.5 s at this scale
    assert 0 < len(refused) <= 40, len(refused)
