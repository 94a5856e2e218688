"""A call flow over real SIP: Legato calls baresip, says prompts (espeak-ng), gathers the RFC 4733 digits the
phone sends (one of them barging into a prompt), and follows the application's next documents (Twilio's
VoiceResponse, its requests checked with Twilio's RequestValidator)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from twilio.twiml.voice_response import Gather, VoiceResponse

from tests.flows.twiml_app import TwimlApp
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_legs_api import start_world
from tests.network.sip.test_media_legs import EXOPHONE, World, media_world, wait_event

__all__ = ["media_world"]  # the fixture, shared with the media tests
pytestmark = [pytest.mark.sip, pytest.mark.media]
LONG_PROMPT = "Welcome to the test line. " * 8  # far longer than the test takes to press a key


def _gather(action: str, digits: int, prompt: str) -> str:
    response = VoiceResponse()
    gather = Gather(num_digits=digits, action=action, timeout=10)
    gather.say(prompt)
    response.append(gather)
    return str(response)


def _bye(params: dict[str, str]) -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def test_a_flow_gathers_digits_the_phone_sends(media_world: World) -> None:
    app = TwimlApp(
        {
            "/menu": lambda p: _gather("/chosen", 1, LONG_PROMPT),
            "/chosen": lambda p: _gather("/second", 2, "Two more"),
            "/second": _bye,
        }
    )
    api, phone = media_world()
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = _dial(api, phone, app.url("/menu"))
        app.wait_for("/menu")  # the flow hears the leg's keys from before its first request
        control.command("sndcode", "7")  # during the long prompt: it stops the prompt and is the digit
        chosen = app.wait_for("/chosen")
        assert chosen.params["Digits"] == "7" and chosen.params["CallSid"] == leg_sid
        [barged, _] = wait_event(api, leg_sid, "play_completed", count=2, seconds=20)
        assert barged["reason"] == "stopped"
        # The second prompt ended: the flow saw that event before it was committed and sent the gather to the
        # media engine before this poll could read it, so the phone's digits reach a running gather.
        for key in "42":
            control.command("sndcode", key)
            time.sleep(0.3)  # kept: a person's pace between keys (each digit is sent as real-time RTP events)
        assert app.wait_for("/second").params["Digits"] == "42"
        assert api.wait_terminal(leg_sid, 20)["terminal_status"] == "completed"
        keys = wait_event(api, leg_sid, "dtmf_received", count=3)
        assert [k["source"] for k in keys] == ["rfc4733"] * 3
        app.check_signed(api.account.webhook_secret)
    finally:
        control.close()
        app.close()


def test_a_gather_with_barge_in_false_plays_its_prompt_to_the_end(media_world: World) -> None:
    def menu(params: dict[str, str]) -> str:
        response = VoiceResponse()
        gather = Gather(num_digits=1, action="/nb-chosen", timeout=2, barge_in=False)
        gather.say("Welcome to the test line. Please listen.")
        response.append(gather)
        response.redirect("/nb-none")
        return str(response)

    app = TwimlApp({"/nb-menu": menu, "/nb-chosen": _bye, "/nb-none": _bye})
    api, phone = media_world()
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = _dial(api, phone, app.url("/nb-menu"))
        app.wait_for("/nb-menu")
        control.command("sndcode", "7")  # during the prompt: bargeIn="false" does not let it stop the prompt
        [played] = wait_event(api, leg_sid, "play_completed", count=1, seconds=20)
        assert played["reason"] == "finished"
        assert api.wait_terminal(leg_sid, 20)["terminal_status"] == "completed"
        assert app.paths() == ["/nb-menu", "/nb-none"]  # the key was not taken: no input, the next verb runs
        names = [e["event_name"] for e in api.events(leg_sid)]
        assert names.index("dtmf_received") < names.index("play_completed") and "flow_error" not in names
    finally:
        control.close()
        app.close()


def test_an_inbound_call_runs_the_account_s_flow(peers: Peers, tmp_path: Path) -> None:
    app = TwimlApp({"/in": lambda p: _gather("/in-chosen", 1, LONG_PROMPT), "/in-chosen": _bye})
    api, server, sip_port = start_world(
        peers, tmp_path, account_args=("--exophone", EXOPHONE, "--inbound-flow-url", app.url("/in"))
    )
    caller = peers.phone(user="caller")
    control = BaresipControl(caller.extra["ctrl"])
    try:
        control.command("dial", f"sip:{EXOPHONE}@127.0.0.1:{sip_port}")
        first = app.wait_for("/in")
        assert (first.params["Direction"], first.params["CallStatus"]) == ("inbound", "ringing")
        control.wait_event("CALL_ESTABLISHED", timeout=10)  # answered by the flow, not through the API
        control.command("sndcode", "5")
        chosen = app.wait_for("/in-chosen")
        assert chosen.params["Digits"] == "5" and chosen.params["To"] == "+918030752400"
        control.wait_event("CALL_CLOSED", timeout=10)
        leg = api.wait_terminal(chosen.params["CallSid"])
        assert (leg["direction"], leg["terminal_status"], leg["hangup_source"]) == ("inbound", "completed", "platform")
        names = [e["event_name"] for e in api.events(leg["leg_sid"])]
        assert names[:2] == ["leg_incoming", "leg_answered"] and names.count("leg_terminated") == 1
        app.check_signed(api.account.webhook_secret)
    finally:
        control.close()
        server.stop()
        app.close()


def _dial(api: Any, phone: Any, flow_url: str) -> str:
    """A voip leg to the baresip phone running the flow at `flow_url`: its sid."""
    response = api.http.post(
        api.base + "/legs",
        json={"contact_uri": f"sip:phone@127.0.0.1:{phone.port}", "exophone": EXOPHONE, "network_type": "voip",
              "flow_url": flow_url},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["response"]["data"]["leg_sid"])
