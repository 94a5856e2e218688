"""Call flows on the sandbox, end to end: a real Legato server fetches TwiML (written with Twilio's own
VoiceResponse) from a real HTTP app, and Twilio's RequestValidator accepts every request it makes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from tests.flows.twiml_app import EXOPHONE, TwimlApp
from tests.flows.twiml_app import create_leg as _create
from tests.flows.twiml_app import document as _document
from tests.legato_server import Api, LegatoServer
from tests.waiting import wait_for

REJECTING = "08030752411"


def _ivr_routes() -> dict[str, Any]:
    def ivr(params: dict[str, str]) -> str:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/menu", timeout=5)
        gather.say("Press 1 for sales")
        response.append(gather)
        response.say("We did not get that")
        return str(response)

    def menu(params: dict[str, str]) -> str:
        response = VoiceResponse()
        if params.get("Digits") == "1":
            response.say("Connecting you", voice="woman", language="en-GB")
            # timeLimit ends the dialled call (100 s of sandbox time, 2 s here): time enough to bridge it
            dial = Dial(action="/dialed", timeout=20, record="record-from-answer", time_limit=100)
            dial.number("09100000001")  # busy
            dial.number(
                "09100005678",
                send_digits="9",
                status_callback="/child-status",  # rung at the same time
                status_callback_event="initiated answered completed",
            )
            response.append(dial)
        else:
            response.redirect("/ivr")
        return str(response)

    def dialed(params: dict[str, str]) -> str:
        response = VoiceResponse()
        response.say("Goodbye")
        response.hangup()
        return str(response)

    return {
        "/ivr": ivr,
        "/menu": menu,
        "/dialed": dialed,
        "/status": lambda p: "<Response/>",
        "/child-status": lambda p: "<Response/>",
    }


@pytest.fixture(scope="module")
def flow_api(shared_server: LegatoServer) -> Iterator[tuple[Api, TwimlApp]]:
    app = TwimlApp(_ivr_routes())
    account = shared_server.create_account("--exophone", EXOPHONE, "--exophone", REJECTING)
    shared_server.cli(
        "accounts",
        "update",
        account.account_sid,
        "--inbound-flow-url",
        app.url("/ivr"),
        "--exophone-flow",
        f"{REJECTING}={app.url('/reject')}",
    )
    yield Api(shared_server, account), app
    app.close()




def _names(api: Api, leg_sid: str) -> list[str]:
    return [e["event_name"] for e in api.events(leg_sid)]


def _wait_event(api: Api, leg_sid: str, name: str, seconds: float = 30) -> None:
    api.wait_event(leg_sid, name, seconds=seconds)


def _data(api: Api, leg_sid: str, name: str) -> list[dict[str, Any]]:
    return [e["payload"]["event_data"]["data"] for e in api.events(leg_sid) if e["event_name"] == name]


def test_ivr_menu_gathers_a_digit_dials_a_second_leg_and_hangs_up(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    leg_sid = _create(
        api,
        "09100001234",
        flow_url=app.url("/ivr"),
        status_callback=app.url("/status"),
        status_callback_event=["initiated", "ringing", "answered", "completed"],
    )
    leg = api.wait_terminal(leg_sid, 60)
    assert leg["terminal_status"] == "completed"
    first, menu, dialed = (app.wait_for(p) for p in ("/ivr", "/menu", "/dialed"))
    assert first.params["CallSid"] == leg_sid and first.params["CallStatus"] == "in-progress"
    assert first.params["Direction"] == "outbound-api" and first.params["AccountSid"] == api.account.account_sid
    assert first.params["From"] == "+918030752400" and first.params["To"] == "+919100001234"  # E.164, as Twilio
    assert menu.params["Digits"] == "1"  # the sandbox keys 1234#: numDigits=1 takes the first
    assert dialed.params["DialCallStatus"] == "completed" and dialed.params["DialBridged"] == "true"
    assert dialed.params["RecordingUrl"].endswith(".wav")  # record="record-from-answer"
    child = api.leg(dialed.params["DialCallSid"])
    assert child["contact_uri"] == "09100005678" and child["hangup_cause"] == "time_limit"
    assert child["call_sid"] == leg["call_sid"]  # dialled with reference_leg_sid: the same call
    assert "digits_sent" in _names(api, child["leg_sid"])  # sendDigits once it answered
    child_statuses = [r.params for r in app.wait_all("/child-status", count=3)]
    assert [p["CallStatus"] for p in child_statuses] == ["initiated", "in-progress", "completed"]
    assert {(p["CallSid"], p["ParentCallSid"], p["Direction"]) for p in child_statuses} == {
        (child["leg_sid"], leg_sid, "outbound-dial")
    }
    names = _names(api, leg_sid)
    assert names.index("gather_completed") < names.index("leg_joined_bridge") < names.index("leg_left_bridge")
    assert names.count("play_completed") == 3  # the gather's prompt, "Connecting you", "Goodbye"
    assert names[-1] == "leg_terminated" and names.count("leg_terminated") == 1
    statuses = [r.params["CallStatus"] for r in app.wait_all("/status", count=4)]
    assert statuses == ["initiated", "ringing", "in-progress", "completed"]
    app.check_signed(api.account.webhook_secret)


def test_record_posts_the_recording_to_the_action(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/rec"] = lambda p: _document(
        lambda r: (
            r.say("Leave a message"),
            r.play(digits="1w2"),
            r.record(action="/recorded", max_length=30, recording_status_callback="/recstatus"),
        )
    )
    app.routes["/recorded"] = lambda p: _document(lambda r: r.hangup())
    app.routes["/recstatus"] = lambda p: "<Response/>"
    leg_sid = _create(api, "09100004321", flow_url=app.url("/rec"), amd_enable=True)
    assert app.wait_for("/rec", leg_sid).params["AnsweredBy"] == "human"  # sync AMD: the flow starts after it
    recorded = app.wait_for("/recorded")
    assert recorded.params["Digits"] == "4"  # the first key the sandbox presses ends the recording
    assert recorded.params["RecordingUrl"].endswith(".wav") and recorded.params["RecordingSid"]
    assert app.wait_for("/recstatus").params["RecordingStatus"] == "completed"
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    names = _names(api, leg_sid)
    assert names.count("digits_sent") == 2 and names.index("digits_sent") < names.index("recording_completed")
    app.check_signed(api.account.webhook_secret)


def test_a_failing_url_runs_the_fallback(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/boom"] = lambda p: 500
    app.routes["/fallback"] = lambda p: _document(lambda r: (r.say("Sorry"), r.hangup()))
    leg_sid = _create(api, "09100002222", flow_url=app.url("/boom"), flow_fallback_url=app.url("/fallback"))
    fallback = app.wait_for("/fallback")
    assert fallback.params["ErrorCode"] == "11200" and fallback.params["ErrorUrl"] == app.url("/boom")
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    [error] = _data(api, leg_sid, "flow_error")
    assert error["kind"] == "fetch" and error["url"] == app.url("/boom") and "HTTP 500" in error["message"]
    assert app.paths().count("/boom") == 1  # a 500 is not retried (Twilio retries connection failures only)


def test_an_unknown_verb_is_a_flow_error_and_the_call_ends(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/sms"] = lambda p: "<Response><Say>hi</Say><Sms>hello</Sms></Response>"
    leg_sid = _create(api, "09100003333", flow_url=app.url("/sms"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    [error] = _data(api, leg_sid, "flow_error")
    assert error["kind"] == "verb" and error["name"] == "Sms" and error["url"] == app.url("/sms")
    assert "play_completed" not in _names(api, leg_sid)  # a document that cannot run runs no verb


def test_a_verb_the_server_refuses_is_a_flow_error(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/far-play"] = lambda p: _document(lambda r: (r.play("https://cdn.example.com/x.wav"), r.say("no")))
    leg_sid = _create(api, "09100004444", flow_url=app.url("/far-play"))
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    [error] = _data(api, leg_sid, "flow_error")
    assert (error["kind"], error["name"]) == ("attribute", "Play.url")  # not under LEGATO_PLAY_URL_PREFIXES
    assert "play_completed" not in _names(api, leg_sid)


def test_inbound_calls_run_the_number_s_flow(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/reject"] = lambda p: _document(lambda r: r.reject(reason="busy"))
    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09999912345", "to": REJECTING})
    rejected = response.json()["response"]["data"]["leg_sid"]
    assert api.wait_terminal(rejected, 30)["terminal_status"] == "busy"
    assert "leg_answered" not in _names(api, rejected)
    assert app.wait_for("/reject").params["CallStatus"] == "ringing"

    response = api.http.post(api.base + "/sandbox/incoming", json={"from": "09999912345", "to": EXOPHONE})
    leg_sid = response.json()["response"]["data"]["leg_sid"]
    menu = app.wait_for("/menu", leg_sid)
    assert menu.params["Direction"] == "inbound" and menu.params["Digits"] == "1"
    assert menu.params["From"] == "+919999912345" and menu.params["To"] == "+918030752400"
    assert api.wait_terminal(leg_sid, 60)["terminal_status"] == "completed"


def test_redirect_replaces_the_running_flow(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    # digits_sent, then a prompt that plays until stopped: the flow starts it as it sees digits_sent, before
    # that event is committed and this test can read it
    app.routes["/wait"] = lambda p: _document(lambda r: (r.play(digits="1"), r.say("Please hold", loop=0)))
    app.routes["/bye"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100005555", flow_url=app.url("/wait"))
    app.wait_for("/wait")
    api.wait_state(leg_sid, "connected")
    _wait_event(api, leg_sid, "digits_sent")
    response = api.action(leg_sid, action="redirect", url=app.url("/bye"), method="GET")
    assert response.status_code == 202, response.text
    bye = app.wait_for("/bye")
    assert bye.method == "GET" and bye.params["CallSid"] == leg_sid
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    assert "flow_redirect" in _names(api, leg_sid)
    assert [d["reason"] for d in _data(api, leg_sid, "play_completed")] == ["stopped"]  # the redirect ended it
    app.check_signed(api.account.webhook_secret)


def test_flow_fields_are_checked(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    response = api.http.post(api.base + "/legs", json={"contact_uri": "09100001234", "exophone": EXOPHONE})
    assert response.status_code == 400 and "leg_event_endpoint" in response.text
    response = api.http.post(
        api.base + "/legs",
        json={"contact_uri": "09100001234", "exophone": EXOPHONE, "flow_url": "ftp://example.com/x"},
    )
    assert response.status_code == 400 and "flow_url" in response.text
    leg_sid = _create(api, "09100001234", leg_event_endpoint="http://127.0.0.1:9/events")
    response = api.action(leg_sid, action="redirect", url="file:///etc/passwd")
    assert response.status_code in (400, 409) and response.json()["response"]["error_data"]["field"] in (
        "url",
        "action",
    )
    api.wait_state(leg_sid, "connected")
    response = api.action(leg_sid, action="redirect", url="file:///etc/passwd")
    assert response.status_code == 400 and response.json()["response"]["error_data"]["field"] == "url"
    response = api.action(leg_sid, action="say", text="hi", method="GET")
    assert response.status_code == 400 and response.json()["response"]["error_data"]["field"] == "method"
    api.action(leg_sid, action="hangup")
    with pytest.raises(RuntimeError, match="not one of the account's exophones"):
        api.server.cli("accounts", "update", api.account.account_sid, "--exophone-flow", f"08030752499={app.url('/x')}")


def test_a_speech_gather_hears_the_sandbox_phrase(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/speak"] = lambda p: _document(lambda r: r.gather(input="speech", action="/heard", hints="sales"))
    app.routes["/heard"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100006666", flow_url=app.url("/speak"), sandbox_speech="talk to sales")
    heard = app.wait_for("/heard")
    assert heard.params["SpeechResult"] == "talk to sales" and float(heard.params["Confidence"]) > 0
    assert "Digits" not in heard.params
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"


def test_the_url_fragment_asks_for_retries(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    answers = iter([500, 503])
    app.routes["/flaky"] = lambda p: next(answers, None) or _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100007777", flow_url=app.url("/flaky") + "#rc=2&rp=5xx")
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    assert app.paths().count("/flaky") == 3  # two 5xx answers retried, the third ran
    assert "flow_error" not in _names(api, leg_sid)


def test_when_the_call_ends_the_dialled_leg_goes_and_actions_are_told(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/dial-long"] = lambda p: _document(lambda r: r.dial("09100009999", action="/after-dial"))
    app.routes["/after-dial"] = lambda p: _document(lambda r: r.say("never heard"))
    app.routes["/voicemail"] = lambda p: _document(lambda r: r.record(action="/after-record", finish_on_key=""))
    app.routes["/after-record"] = lambda p: _document(lambda r: r.say("never heard"))
    # time_limit ends each call (300 s of sandbox time, 6 s here) while it dials / records
    dialling = _create(api, "09100002468", flow_url=app.url("/dial-long"), time_limit=300)
    recording = _create(api, "08100002468", flow_url=app.url("/voicemail"), time_limit=300)
    after = app.wait_for("/after-dial", dialling)
    assert after.params["DialCallStatus"] == "completed" and after.params["CallStatus"] == "completed"
    assert after.params["DialBridged"] == "true"
    child = api.wait_terminal(after.params["DialCallSid"], 30)
    assert child["terminal_status"] == "completed" and child["hangup_cause"] == "hangup_requested"
    told = app.wait_for("/after-record", recording)
    assert told.params["Digits"] == "hangup" and told.params["RecordingUrl"].endswith(".wav")
    assert int(told.params["RecordingDuration"]) > 0
    for leg_sid in (dialling, recording):
        assert api.wait_terminal(leg_sid, 30)["hangup_cause"] == "time_limit"
        assert "play_completed" not in _names(api, leg_sid)  # what the actions answered did not run


def _conference_events(api: Api, cid: str) -> list[tuple[str, str | None, Any, Any]]:
    events = api.http.get(f"{api.base}/conferences/{cid}/external-events").json()["response"]["data"]["events"]
    return [
        (e["event_name"], d.get("leg_sid"), d.get("hold"), d.get("reason"))
        for e in events
        for d in [e["payload"]["event_data"]["data"]]
    ]


def _joined(api: Api, room: str) -> dict[str, Any]:
    """The active conference named `room` once someone is in it."""

    def joined() -> list[dict[str, Any]]:
        listed = api.http.get(f"{api.base}/conferences", params={"state": "active"}).json()["response"]["data"]
        return [c for c in listed["conferences"] if c["name"] == room and c["participants"]]

    return wait_for(joined, seconds=30, what=f"someone in {room}")[0]


def _completed(api: Api, cid: str) -> list[tuple[Any, ...]]:
    """The conference's events once it completed."""
    return wait_for(lambda: _conference_events(api, cid), lambda events: events[-1][0] == "conference_completed",
                    seconds=30, what="the conference's completion")


def test_dial_conference_joins_by_name_and_goes_on_when_the_leg_leaves(flow_api: tuple[Api, TwimlApp]) -> None:
    import uuid

    from twilio.twiml.voice_response import Conference

    api, app = flow_api
    room = f"room-{uuid.uuid4().hex[:8]}"

    def joining(action: str, **attributes: Any) -> Any:
        def route(params: dict[str, str]) -> str:
            dial = Dial(action=action)
            dial.append(Conference(room, **attributes))
            return _document(lambda r: r.append(dial))

        return route

    app.routes["/conf-waiter"] = joining(
        "/conf-left", muted=True, start_conference_on_enter=False, record="record-from-start"
    )
    app.routes["/conf-host"] = joining("/conf-left", end_conference_on_exit=True)
    app.routes["/conf-left"] = lambda p: _document(lambda r: (r.say("Bye"), r.hangup()))
    waiter = _create(api, "09100006001", flow_url=app.url("/conf-waiter"))
    conference = _joined(api, room)  # the first to join creates the conference, on hold until a starter joins
    cid = conference["conference_sid"]
    assert conference["record"] is True and conference["end_when_empty"] is True  # from the creator's noun
    host = _create(api, "09100006002", flow_url=app.url("/conf-host"))
    wait_for(lambda: _conference_events(api, cid), lambda events: ("participant_updated", waiter, False, "unhold")
             in events, seconds=30, what="the waiter let in")
    members = {
        p["leg_sid"]: p
        for p in api.http.get(f"{api.base}/conferences/{cid}").json()["response"]["data"]["participants"]
    }
    assert members[waiter]["muted"] is True and members[host]["muted"] is False
    assert api.action(host, action="hangup").status_code < 300  # endConferenceOnExit: the conference stops
    left = app.wait_for("/conf-left", waiter)
    assert left.params["DialCallStatus"] == "completed" and left.params["ConferenceSid"] == cid
    assert app.wait_for("/conf-left", host).params["DialCallStatus"] == "completed"  # told though it hung up
    assert api.wait_terminal(waiter, 30)["terminal_status"] == "completed"  # its flow went on: Say, Hangup
    assert "play_completed" in _names(api, waiter)
    events = _completed(api, cid)
    assert events == [
        ("conference_created", None, None, None),
        ("participant_joined", waiter, True, None),
        ("participant_joined", host, False, None),
        ("participant_updated", waiter, False, "unhold"),
        ("participant_left", host, False, "leg_ended"),
        ("participant_left", waiter, False, "conference_stopped"),
        ("conference_recording_completed", None, None, None),
        ("conference_completed", None, None, "stopped"),
    ]
    app.check_signed(api.account.webhook_secret)


def test_record_ends_after_timeout_seconds_of_silence(flow_api: tuple[Api, TwimlApp]) -> None:
    api, app = flow_api
    app.routes["/rec-quiet"] = lambda p: _document(lambda r: r.record(action="/quiet-done", timeout=2, max_length=3600))
    app.routes["/quiet-done"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100000009", flow_url=app.url("/rec-quiet"))  # 0009: the caller keys nothing
    done = app.wait_for("/quiet-done", leg_sid)  # long before maxLength (an hour: 72 s here)
    assert done.params["Digits"] == "" and done.params["RecordingUrl"].endswith(".wav")
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    assert [d["reason"] for d in _data(api, leg_sid, "gather_completed")] == ["silence"]
    [recording] = _data(api, leg_sid, "recording_completed")
    assert recording["reason"] == "stopped"  # by the flow, once the gather heard silence


def test_a_redirect_takes_the_leg_out_of_its_conference(flow_api: tuple[Api, TwimlApp]) -> None:

    from twilio.twiml.voice_response import Conference

    api, app = flow_api
    dial = Dial(action="/not-told")
    dial.append(Conference("redirect-room"))
    app.routes["/conf-alone"] = lambda p: _document(lambda r: r.append(dial))
    app.routes["/bad-coach"] = lambda p: (
        f'<Response><Dial><Conference coach="{p["CallSid"]}">redirect-room</Conference></Dial></Response>'
    )
    app.routes["/bye"] = lambda p: _document(lambda r: r.hangup())
    leg_sid = _create(api, "09100006003", flow_url=app.url("/conf-alone"))
    cid = _joined(api, "redirect-room")["conference_sid"]
    coach = _create(api, "09100006004", flow_url=app.url("/bad-coach"))  # coaching itself: refused
    assert api.wait_terminal(coach, 30)["terminal_status"] == "completed"
    [error] = _data(api, coach, "flow_error")
    assert (error["kind"], error["name"]) == ("attribute", "Conference.coach")
    assert api.action(leg_sid, action="redirect", url=app.url("/bye")).status_code == 202
    assert api.wait_terminal(leg_sid, 30)["terminal_status"] == "completed"
    events = _completed(api, cid)
    assert [(name, reason) for name, _, _, reason in events] == [
        ("conference_created", None),
        ("participant_joined", None),
        ("participant_left", "removed"),
        ("conference_completed", "empty"),
    ]
    assert "/not-told" not in app.paths()  # redirected away: the Dial's action is not requested
