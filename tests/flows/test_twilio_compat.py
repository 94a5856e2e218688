"""Call flows against Twilio's documented behaviour, on a real sandbox server with a real TwiML app: what a
Twilio app relies on (method values, a <Pause> that delays the pick-up, a recording status callback's
parameters, HTTP redirects of a document's URL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Start, VoiceResponse

from tests.flows.twiml_app import EXOPHONE, TwimlApp
from tests.flows.twiml_app import create_leg as _create
from tests.flows.twiml_app import document as _document
from tests.legato_server import Api, LegatoServer
from tests.stream_agent import Agent

PAUSING = "08030752412"


@pytest.fixture(scope="module")
def flow_api(shared_server: LegatoServer) -> Iterator[tuple[Api, TwimlApp]]:
    app = TwimlApp({})
    account = shared_server.create_account("--exophone", EXOPHONE, "--exophone", PAUSING)
    shared_server.cli(
        "accounts", "update", account.account_sid, "--exophone-flow", f"{PAUSING}={app.url('/pause-first')}"
    )
    yield Api(shared_server, account), app
    app.close()




def _data(api: Api, leg_sid: str, name: str) -> list[dict[str, Any]]:
    return [e["payload"]["event_data"]["data"] for e in api.events(leg_sid) if e["event_name"] == name]


def test_method_values_are_twilio_s_in_any_case_and_others_are_a_flow_error(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/m-start"] = lambda p: '<Response><Redirect method="get">/m-next?step=2</Redirect></Response>'
    app.routes["/m-next"] = lambda p: '<Response><Redirect method="PUT">/m-never</Redirect></Response>'
    leg_sid = _create(api, "09100007001", flow_url=app.url("/m-start"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    got = app.wait_for("/m-next", leg_sid)
    # method="get" is a GET: the parameters in the query string, signed over the URL alone
    assert got.method == "GET" and got.body == "" and got.params["step"] == "2" and got.params["CallSid"] == leg_sid
    app.check_signed(api.account.webhook_secret)
    [error] = _data(api, leg_sid, "flow_error")
    assert (error["kind"], error["name"]) == ("attribute", "Redirect.method")
    assert "/m-never" not in app.paths()


def test_a_pause_before_any_other_verb_delays_the_pick_up(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    # Twilio: "If <Pause> is the first verb in a TwiML document, Twilio will wait the specified number of
    # seconds before picking up the call"; a <Hangup> after it refuses the call, never answered
    app.routes["/pause-first"] = lambda p: _document(lambda r: (r.pause(length=2), r.hangup()))
    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09999912345", "to": PAUSING})
    leg_sid = response.json()["response"]["data"]["leg_sid"]
    leg = api.wait_terminal(leg_sid, 30)
    assert app.wait_for("/pause-first", leg_sid).params["CallStatus"] == "ringing"
    assert "leg_answered" not in [e["event_name"] for e in api.events(leg_sid)]
    assert leg["answer_time"] is None


def test_a_recording_status_callback_carries_twilio_s_parameters(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/r-start"] = lambda p: _document(
        lambda r: r.record(action="/r-done", max_length=30, recording_status_callback="/r-status")
    )
    app.routes["/r-done"] = lambda p: _document(lambda r: r.hangup())
    app.routes["/r-status"] = lambda p: "<Response/>"
    leg_sid = _create(api, "09100004321", flow_url=app.url("/r-start"))
    done = app.wait_for("/r-done", leg_sid)
    status = app.wait_for("/r-status").params
    assert status["AccountSid"] == api.account.account_sid and status["CallSid"] == leg_sid
    assert status["RecordingSid"] == done.params["RecordingSid"]
    assert status["RecordingUrl"] == done.params["RecordingUrl"]
    assert status["RecordingDuration"] == done.params["RecordingDuration"]
    assert (status["RecordingStatus"], status["RecordingChannels"], status["RecordingSource"]) == (
        "completed", "1", "RecordVerb"
    )
    assert "Digits" not in status  # the action's parameter, not the callback's
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    app.check_signed(api.account.webhook_secret)


def test_redirects_of_a_document_s_url_are_followed_as_twilio_follows_them(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/rd-start"] = lambda p: (301, "/rd-voice")  # e.g. a framework adding a slash: POST again
    app.routes["/rd-voice"] = lambda p: _document(lambda r: r.redirect("/rd-see"))
    app.routes["/rd-see"] = lambda p: (303, app.url("/rd-final?via=303"))  # 303: a GET of the Location
    app.routes["/rd-final"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100007002", flow_url=app.url("/rd-start"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    voice, final = app.wait_for("/rd-voice", leg_sid), app.wait_for("/rd-final")
    assert voice.method == "POST" and voice.params["CallStatus"] == "in-progress"
    assert final.method == "GET" and final.params == {"via": "303"}
    assert not _data(api, leg_sid, "flow_error")
    app.check_signed(api.account.webhook_secret)  # each hop signed for its own URL

    app.routes["/rd-odd"] = lambda p: (300, "/rd-voice")  # Twilio follows 301, 302, 303, 307 only (error 11216)
    leg_sid = _create(api, "09100007003", flow_url=app.url("/rd-odd"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    [error] = _data(api, leg_sid, "flow_error")
    assert error["kind"] == "fetch" and "HTTP 300" in error["message"]


def test_a_redirect_loop_ends_the_call_with_a_flow_error(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/loop"] = lambda p: _document(lambda r: r.redirect("/loop"))
    leg_sid = _create(api, "09100007004", flow_url=app.url("/loop"))
    assert api.wait_terminal(leg_sid, 60)["terminal_status"] == "completed"
    assert len(app.wait_all("/loop", leg_sid, count=1000)) == 1000  # MAX_DOCUMENTS, then no more
    [error] = _data(api, leg_sid, "flow_error")  # the call does not end without saying why
    assert (error["kind"], error["name"]) == ("document", "Response") and "1000 documents" in error["message"]


def test_a_stream_s_status_callback_and_handshake_signature_are_twilio_s(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    agent = Agent("twilio")
    try:

        def fork(r: VoiceResponse) -> None:
            start = Start()
            start.stream(url=agent.url, name="fork", status_callback="/st-status", status_callback_method="get")
            r.append(start)
            r.pause(length=600)

        app.routes["/st-start"] = lambda p: _document(fork)
        app.routes["/st-status"] = lambda p: "<Response/>"
        leg_sid = _create(api, "09100007005", flow_url=app.url("/st-start"))
        agent.wait(lambda: agent.events("start"), what="the stream's start")
        api.action(leg_sid, action="hangup")
        started, stopped = app.wait_all("/st-status", leg_sid, count=2)
        sid = agent.sid()
        for request, event in ((started, "stream-started"), (stopped, "stream-stopped")):
            assert request.method == "GET"  # statusCallbackMethod
            assert request.params["StreamEvent"] == event and request.params["StreamSid"] == sid
            assert request.params["StreamName"] == "fork" and request.params["AccountSid"] == api.account.account_sid
            assert request.params["Timestamp"]
        app.check_signed(api.account.webhook_secret)
        # the handshake is signed as Twilio signs it: the stream URL, no parameters
        assert RequestValidator(api.account.webhook_secret).validate(
            agent.url, {}, agent.headers[0]["x-twilio-signature"]
        )
    finally:
        agent.close()


def test_stop_stream_by_name_stops_the_stream_start_started(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    kept, stopped = Agent("twilio"), Agent("twilio")
    try:
        app.routes["/sn-start"] = lambda p: (
            f'<Response><Start><Stream url="{kept.url}" name="kept"/></Start>'
            f'<Start><Stream url="{stopped.url}" name="fork"/></Start>'
            '<Redirect>/sn-stop</Redirect></Response>'
        )  # <Stop> in a later document, as Twilio allows
        # answered once the fork is open: a stream stopped while it still connects is closed without frames
        app.routes["/sn-stop"] = lambda p: stopped.wait(lambda: stopped.events("start"), what="the fork's start") and (
            '<Response><Stop><Stream name="fork"/></Stop><Pause length="600"/></Response>'
        )
        leg_sid = _create(api, "09100007006", flow_url=app.url("/sn-start"))
        stopped.wait(lambda: stopped.events("stop"), what="the named stream's stop")
        events = api.wait_event(leg_sid, "stream_stopped")
        [ended] = [e["payload"]["event_data"]["data"] for e in events if e["event_name"] == "stream_stopped"]
        assert ended["stream_sid"] == stopped.sid() and ended["reason"] == "requested"
        assert not kept.events("stop") and not _data(api, leg_sid, "flow_error")
        api.action(leg_sid, action="hangup")
        kept.wait(lambda: kept.events("stop"), what="the other stream's stop at hang-up")
    finally:
        kept.close()
        stopped.close()


def test_a_url_is_signed_as_it_is_requested(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/enc-start"] = lambda p: "<Response><Redirect>/enc-next?q=a b&amp;who=José</Redirect></Response>"
    app.routes["/enc-next"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100007007", flow_url=app.url("/enc-start"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    got = app.wait_for("/enc-next", leg_sid)
    assert got.url.endswith("/enc-next?q=a%20b&who=Jos%C3%A9") and got.params["CallSid"] == leg_sid
    app.check_signed(api.account.webhook_secret)  # over the percent-encoded URL the app received


def test_a_say_longer_than_one_say_action_is_spoken_whole(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    text = "word " * 420  # 2100 characters: Twilio speaks up to 4096; one say action takes 2000
    app.routes["/long-say"] = lambda p: _document(lambda r: (r.say(text), r.hangup()))
    leg_sid = _create(api, "09100007008", flow_url=app.url("/long-say"))
    assert api.wait_terminal(leg_sid, 60)["terminal_status"] == "completed"
    played = _data(api, leg_sid, "play_completed")
    assert [p["reason"] for p in played] == ["finished", "finished"]  # in two parts, not cut at 2000
    assert not _data(api, leg_sid, "flow_error")


def test_dial_record_sends_its_recording_status_callback(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/dr-start"] = lambda p: _document(
        lambda r: r.dial(
            "09100000007",  # answers, hangs up after 5 s (sandbox)
            action="/dr-after",
            record="record-from-answer-dual",
            recording_status_callback="/dr-status",
        )
    )
    app.routes["/dr-after"] = lambda p: _document(lambda r: r.hangup())
    app.routes["/dr-status"] = lambda p: "<Response/>"
    leg_sid = _create(api, "09100007009", flow_url=app.url("/dr-start"))
    after = app.wait_for("/dr-after", leg_sid)
    status = app.wait_for("/dr-status", leg_sid).params
    assert (status["RecordingSource"], status["RecordingStatus"]) == ("DialVerb", "completed")
    assert status["RecordingSid"] == after.params["RecordingSid"] and status["RecordingUrl"].endswith(".wav")
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"

    # the caller hangs up while bridged: the recording still completes and its callback is sent (Twilio's)
    app.routes["/dr-long"] = lambda p: _document(
        lambda r: r.dial("09100005678", record="record-from-answer", recording_status_callback="/dr-status")
    )
    leg_sid = _create(api, "09100007010", flow_url=app.url("/dr-long"))
    api.wait_event(leg_sid, "leg_joined_bridge")
    api.action(leg_sid, action="hangup")
    status = app.wait_for("/dr-status", leg_sid).params
    assert status["RecordingSource"] == "DialVerb" and status["RecordingUrl"].endswith(".wav")
    app.check_signed(api.account.webhook_secret)


def test_recording_sids_are_unique_across_calls(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/rs-start"] = lambda p: _document(lambda r: r.record(action="/rs-done", max_length=30))
    app.routes["/rs-done"] = lambda p: _document(lambda r: r.hangup())
    legs = [_create(api, number, flow_url=app.url("/rs-start")) for number in ("09100007011", "09100007012")]
    sids = [app.wait_for("/rs-done", leg_sid).params["RecordingSid"] for leg_sid in legs]
    # an app keys its recordings by RecordingSid (Twilio's are unique): not the media engine's per-process rec-N
    assert len(set(sids)) == 2 and all(sid.startswith(leg_sid) for sid, leg_sid in zip(sids, legs, strict=True))


def test_dial_action_tells_the_dialled_call_s_duration_when_the_caller_hangs_up(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    # Twilio's <Dial> action: DialCallDuration, "the duration in seconds of the dialed call", also when the caller
    # is the one who hangs up while bridged
    app.routes["/dd-start"] = lambda p: _document(lambda r: r.dial("09100005679", action="/dd-after"))
    app.routes["/dd-after"] = lambda p: "<Response/>"
    leg_sid = _create(api, "09100007013", flow_url=app.url("/dd-start"))
    api.wait_event(leg_sid, "leg_joined_bridge")
    api.action(leg_sid, action="hangup")
    after = app.wait_for("/dd-after", leg_sid).params
    child = api.leg(after["DialCallSid"])
    assert (after["DialCallStatus"], after["DialBridged"]) == ("completed", "true")
    assert after["DialCallDuration"] == str(child["duration"])


def test_connect_stream_holds_the_call_until_its_own_stream_ends(flow_api: tuple[Api, TwimlApp]) -> None:
    """A <Start><Stream> fork ending is not the end of the <Connect><Stream> beside it."""
    api, app = flow_api
    fork, agent = Agent("twilio"), Agent("twilio")
    agent_closed_before_action: list[bool] = []
    try:
        app.routes["/cs-start"] = lambda p: (
            f'<Response><Start><Stream url="{fork.url}"/></Start>'
            f'<Connect action="/cs-after"><Stream url="{agent.url}"/></Connect></Response>'
        )
        app.routes["/cs-after"] = lambda p: (
            agent_closed_before_action.append(agent.closed.is_set()) or "<Response><Hangup/></Response>"
        )
        leg_sid = _create(api, "09100007014", flow_url=app.url("/cs-start"))
        fork.wait(lambda: fork.events("start"), what="the fork's start")
        agent.wait(lambda: agent.events("start"), what="the connected stream's start")
        assert fork.connection is not None and agent.connection is not None
        fork.connection.close()
        api.wait_event(leg_sid, "stream_stopped")
        seen = agent.media_count()  # the connected stream goes on: 25 more frames (0.5 s of audio), no stop
        agent.wait(lambda: agent.events("stop") or agent.media_count() >= seen + 25, what="more media")
        assert not agent.events("stop") and "/cs-after" not in app.paths()
        agent.connection.close()
        app.wait_for("/cs-after", leg_sid)
        assert agent_closed_before_action == [True]
    finally:
        fork.close()
        agent.close()
