"""TwiML <Conference statusCallback>: Twilio's conference status callbacks, from a real Legato server to a real
HTTP app, each accepted by Twilio's RequestValidator, delivered through the outbox (so a crash loses none)."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import Conference, Dial, VoiceResponse

from tests.flows.twiml_app import Request, TwimlApp
from tests.legato_server import Api, LegatoServer
from tests.waiting import wait_for

EXOPHONE = "08030752400"


@pytest.fixture(scope="module")
def flow_api(shared_server: LegatoServer) -> Iterator[tuple[Api, TwimlApp]]:
    app = TwimlApp({"/status": lambda p: "<Response/>", "/ignored": lambda p: "<Response/>"})
    yield Api(shared_server, shared_server.create_account("--exophone", EXOPHONE)), app
    app.close()


def _joining(room: str, **attributes: Any) -> Any:
    """A route answering <Dial><Conference ...>room</Conference></Dial>, then hanging up."""

    def route(params: dict[str, str]) -> str:
        response = VoiceResponse()
        dial = Dial()
        dial.append(Conference(room, **attributes))
        response.append(dial)
        response.hangup()
        return str(response)

    return route


def _leg(api: Api, contact: str, url: str) -> str:
    response = api.http.post(api.base + "/legs", json={"contact_uri": contact, "exophone": EXOPHONE, "flow_url": url})
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]


def _room(api: Api, room: str, members: int) -> dict[str, Any]:
    def listed() -> list[dict[str, Any]]:
        found = api.http.get(f"{api.base}/conferences", params={"state": "active"}).json()["response"]["data"]
        return [c for c in found["conferences"] if c["name"] == room]

    return wait_for(listed, lambda c: bool(c) and sum(p["state"] == "joined" for p in c[0]["participants"]) >= members,
                    seconds=30, what=f"{members} in {room}")[0]


def _callbacks(app: TwimlApp, path: str, conference_sid: str, last: str = "conference-end") -> list[Request]:
    """The callbacks about the conference, in SequenceNumber order, once `last` came."""

    def found() -> list[Request]:
        with app.lock:
            mine = [r for r in app.requests if r.path == path and r.params.get("ConferenceSid") == conference_sid]
        return sorted(mine, key=lambda r: int(r.params["SequenceNumber"]))

    return wait_for(found, lambda rs: any(r.params["StatusCallbackEvent"] == last for r in rs), seconds=30,
                    what=f"{last} at {path}")


def _summary(callbacks: list[Request]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(r.params["StatusCallbackEvent"], r.params.get("CallSid"), r.params.get("Muted"), r.params.get("Hold"))
            for r in callbacks]


def test_conference_callbacks_go_to_the_creator_s_status_callback(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    room = f"cb-{uuid.uuid4().hex[:8]}"
    app.routes["/waiter"] = _joining(room, start_conference_on_enter=False, status_callback="/status",
                                     status_callback_event="start end join leave mute hold")
    app.routes["/host"] = _joining(room, end_conference_on_exit=True, status_callback="/ignored",
                                   status_callback_event="join")  # not the creator: ignored, as on Twilio
    waiter = _leg(api, "09100006101", app.url("/waiter"))
    cid = _room(api, room, 1)["conference_sid"]
    host = _leg(api, "09100006102", app.url("/host"))
    _callbacks(app, "/status", cid, "participant-unhold")  # the host started the conference: the waiter is let in
    api.http.post(f"{api.base}/conferences/{cid}/participants/{host}/actions", json={"action": "mute"})
    _callbacks(app, "/status", cid, "participant-mute")
    assert api.action(host, action="hangup").status_code < 300  # endConferenceOnExit: the conference ends
    callbacks = _callbacks(app, "/status", cid)
    assert _summary(callbacks) == [
        ("participant-join", waiter, "false", "true"),  # waits on hold for a starter
        ("participant-join", host, "false", "false"),
        ("conference-start", None, None, None),
        ("participant-unhold", waiter, "false", "false"),
        ("participant-mute", host, "true", "false"),
        ("participant-leave", host, "true", "false"),
        ("participant-leave", waiter, "false", "false"),
        ("conference-end", None, None, None),
    ]
    first = callbacks[0]
    assert first.method == "POST" and first.headers["content-type"] == "application/x-www-form-urlencoded"
    assert first.params["AccountSid"] == api.account.account_sid and first.params["FriendlyName"] == room
    assert (first.params["StartConferenceOnEnter"], first.params["EndConferenceOnExit"]) == ("false", "false")
    assert (callbacks[1].params["StartConferenceOnEnter"], callbacks[1].params["EndConferenceOnExit"]) == (
        "true", "true")
    assert all(r.params["Coaching"] == "false" and r.params["Timestamp"].endswith("+0000") for r in callbacks[:2])
    end = callbacks[-1].params
    assert end["ReasonConferenceEnded"] == "participant-with-end-conference-on-exit-left"
    assert end["CallSidEndingConference"] == host
    tokens = {r.headers["i-twilio-idempotency-token"] for r in callbacks}
    assert len(tokens) == len(callbacks)
    assert "/ignored" not in app.paths()
    app.check_signed(api.account.webhook_secret)

    def statuses() -> dict[str, set[str]]:
        listed = api.http.get(f"{api.base}/conferences/{cid}/external-events").json()["response"]["data"]["events"]
        found: dict[str, set[str]] = {}
        for e in listed:
            found.setdefault(e["event_name"], set()).add(e["delivery"]["status"])
        return found

    listed = wait_for(statuses, lambda s: s["conference_completed"] == {"delivered"}, seconds=30,
                      what="the deliveries recorded")
    assert listed["participant_joined"] == {"delivered"}
    assert listed["conference_created"] == {"undeliverable"}  # Twilio has no such callback: kept, not sent


def test_get_and_twilio_s_default_events(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    room = f"cb-{uuid.uuid4().hex[:8]}"
    app.routes["/alone"] = _joining(room, status_callback="/status?tag=1", status_callback_method="GET")
    app.routes["/bad-event"] = _joining(room, status_callback="/status", status_callback_event="start talking")
    leg = _leg(api, "09100006103", app.url("/alone"))
    cid = _room(api, room, 1)["conference_sid"]
    assert api.action(leg, action="hangup").status_code < 300
    callbacks = _callbacks(app, "/status", cid)
    assert [(r.method, r.params["StatusCallbackEvent"]) for r in callbacks] == [
        ("GET", "conference-start"), ("GET", "conference-end")]  # Twilio's default: start end
    assert callbacks[1].params["tag"] == "1" and callbacks[1].params["ReasonConferenceEnded"] == "last-participant-left"
    bad = _leg(api, "09100006104", app.url("/bad-event"))
    assert api.wait_terminal(bad, 30)["terminal_status"] == "completed"
    [error] = [e["payload"]["event_data"]["data"] for e in api.events(bad) if e["event_name"] == "flow_error"]
    assert (error["kind"], error["name"]) == ("attribute", "Conference.statusCallbackEvent")
    app.check_signed(api.account.webhook_secret)


def test_a_crash_loses_no_conference_callback(make_server: Any) -> None:
    app = TwimlApp({"/status": lambda p: "<Response/>"})
    try:
        server = make_server().start()
        api = Api(server, server.create_account("--exophone", EXOPHONE))
        room = f"cb-{uuid.uuid4().hex[:8]}"
        app.routes["/join"] = _joining(room, status_callback="/status", status_callback_event="start end join leave")
        leg = _leg(api, "09100006105", app.url("/join"))
        cid = _room(api, room, 1)["conference_sid"]
        _callbacks(app, "/status", cid, "conference-start")
        server.stop(signal.SIGKILL)
        server.start()  # the conference left active is completed, and its callbacks still go
        # one sent just before the crash may come again (its delivery was not yet recorded), with the same token
        sent = {r.headers["i-twilio-idempotency-token"]: r for r in _callbacks(app, "/status", cid)}
        callbacks = sorted(sent.values(), key=lambda r: int(r.params["SequenceNumber"]))
        assert [(r.params["StatusCallbackEvent"], r.params.get("CallSid")) for r in callbacks] == [
            ("participant-join", leg), ("conference-start", None), ("participant-leave", leg), ("conference-end", None)]
        assert callbacks[-1].params["ReasonConferenceEnded"] == "platform_restart"
        app.check_signed(api.account.webhook_secret)
    finally:
        app.close()
