"""<Dial><Conference> beep, waitUrl and waitMethod on the sandbox, end to end: a real Legato server runs the flows
of a real TwiML app (Twilio's VoiceResponse). The sandbox mirrors the media engine: the wait document's prompts run
as the leg's plays (their play_completed events), and the conference's recording holds the tones played into it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from twilio.twiml.voice_response import Conference, Dial

from legato.media.player import CONFERENCE_NOTES
from tests.flows.test_flows_sandbox import _completed, _create, _data, _document, _joined, flow_api
from tests.flows.twiml_app import TwimlApp
from tests.legato_server import Api
from tests.network.sip import audio
from tests.waiting import wait_for

__all__ = ["flow_api"]  # the fixture, shared with the sandbox flow tests
LOW, HIGH = CONFERENCE_NOTES


def _joining(room: str, **attributes: Any) -> Any:
    def route(params: dict[str, str]) -> str:
        dial = Dial(action="/wait-left")
        dial.append(Conference(room, **attributes))
        return _document(lambda r: r.append(dial))

    return route


def test_a_waiter_hears_its_wait_url_until_the_conference_starts(
    flow_api: tuple[Api, TwimlApp], tmp_path: Path
) -> None:
    api, app = flow_api
    room = f"wait-{uuid.uuid4().hex[:8]}"
    app.routes["/hold"] = lambda p: _document(lambda r: r.say("Please hold"))
    app.routes["/wait-waiter"] = _joining(
        room, start_conference_on_enter=False, wait_url="/hold", wait_method="GET", beep="false",
        record="record-from-start",
    )
    app.routes["/wait-guarded"] = _joining(  # a private address the endpoint policy refuses
        room, start_conference_on_enter=False, wait_url="http://10.99.0.1/hold", beep="false"
    )
    app.routes["/wait-host"] = _joining(room, end_conference_on_exit=True)  # beep: true by default
    app.routes["/wait-left"] = lambda p: _document(lambda r: r.hangup())
    waiter = _create(api, "09100006011", flow_url=app.url("/wait-waiter"))
    cid = _joined(api, room)["conference_sid"]
    held = app.wait_for("/hold", waiter)
    assert held.method == "GET" and held.params["CallSid"] == waiter  # waitMethod, with the call's parameters
    api.wait_event(waiter, "play_completed", count=2)  # the document runs in a loop
    guarded = _create(api, "09100006012", flow_url=app.url("/wait-guarded"))
    [error] = wait_for(lambda: _data(api, guarded, "flow_error"), seconds=30, what="the refused waitUrl")
    assert (error["kind"], error["name"]) == ("fetch", "http://10.99.0.1/hold") and "not allowed" in error["message"]
    host = _create(api, "09100006013", flow_url=app.url("/wait-host"))
    for leg in (waiter, guarded):  # both let in: the refused one waited in silence
        wait_for(lambda leg=leg: api.http.get(f"{api.base}/conferences/{cid}").json()["response"]["data"],
                 lambda c, leg=leg: any(p["leg_sid"] == leg and not p["hold"] for p in c["participants"]),
                 seconds=30, what="the waiters let in")
    plays = wait_for(lambda: _data(api, waiter, "play_completed"),
                     lambda plays: plays[-1]["reason"] == "stopped", seconds=30, what="the wait audio stopped")
    assert {p["reason"] for p in plays[:-1]} == {"finished"}
    count = len(plays)
    assert api.action(host, action="hangup").status_code < 300  # endConferenceOnExit
    assert api.wait_terminal(waiter, 30)["terminal_status"] == "completed"
    assert len(_data(api, waiter, "play_completed")) == count  # no wait audio after the start
    assert app.paths().count("/hold") == 1  # fetched once, its verbs looped
    events = _completed(api, cid)
    assert [name for name, *_ in events][-2:] == ["conference_recording_completed", "conference_completed"]
    listed = api.http.get(f"{api.base}/conferences/{cid}/external-events").json()["response"]["data"]["events"]
    url = listed[-2]["payload"]["event_data"]["data"]["recording_url"]
    room_wav = tmp_path / "room.wav"
    room_wav.write_bytes(api.http.get(url).content)
    assert audio.notes(room_wav, (LOW, HIGH))[:2] == [LOW, HIGH]  # the host's entry; no tone for the waiters


def test_bad_beep_and_wait_method_are_flow_errors(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/bad-beep"] = _joining("bad-beep-room", beep="maybe")
    app.routes["/bad-method"] = _joining("bad-beep-room", wait_method="PUT")
    for path, name in (("/bad-beep", "Conference.beep"), ("/bad-method", "Conference.waitMethod")):
        leg = _create(api, "09100006014", flow_url=app.url(path))
        assert api.wait_terminal(leg, 30)["terminal_status"] == "completed"
        [error] = _data(api, leg, "flow_error")
        assert (error["kind"], error["name"]) == ("attribute", name)


def test_a_wait_document_with_pause_and_redirect_loops_until_the_start(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    room = f"loop-{uuid.uuid4().hex[:8]}"
    app.routes["/hold-loop"] = lambda p: _document(
        lambda r: (r.pause(length=1), r.say("Hold on"), r.redirect("/hold-loop", method="GET"))
    )
    app.routes["/loop-waiter"] = _joining(room, start_conference_on_enter=False, wait_url="/hold-loop")
    app.routes["/loop-host"] = _joining(room, end_conference_on_exit=True)
    app.routes["/wait-left"] = lambda p: _document(lambda r: r.hangup())
    waiter = _create(api, "09100006021", flow_url=app.url("/loop-waiter"))
    cid = _joined(api, room)["conference_sid"]
    first, *again = app.wait_all("/hold-loop", waiter, count=3)  # each pass redirects to the next document
    assert first.method == "POST" and {r.method for r in again} == {"GET"}  # waitMethod, then Redirect's method
    api.wait_event(waiter, "play_completed", count=2)
    host = _create(api, "09100006022", flow_url=app.url("/loop-host"))
    wait_for(lambda: _event_legs(api, cid), lambda events: ("participant_updated", waiter) in events,
             seconds=30, what="the waiter let in")
    assert api.action(host, action="hangup").status_code < 300
    assert api.wait_terminal(waiter, 30)["terminal_status"] == "completed"
    plays, fetched = len(_data(api, waiter, "play_completed")), len(app.wait_all("/hold-loop", waiter))
    assert app.wait_for("/wait-left", waiter).params["DialCallStatus"] == "completed"
    assert (len(_data(api, waiter, "play_completed")), len(app.wait_all("/hold-loop", waiter))) == (plays, fetched)


def _event_legs(api: Api, cid: str) -> list[tuple[str, Any]]:
    events = api.http.get(f"{api.base}/conferences/{cid}/external-events").json()["response"]["data"]["events"]
    return [(e["event_name"], e["payload"]["event_data"]["data"].get("leg_sid")) for e in events]
