"""A call flow over real SIP: Legato calls baresip, says a prompt (espeak-ng), gathers the RFC 4733 digits the
phone sends, and follows the application's next document (Twilio's VoiceResponse, checked with its validator)."""

from __future__ import annotations

import time

import pytest
from twilio.twiml.voice_response import Gather, VoiceResponse

from tests.flows.twiml_app import TwimlApp
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_media_legs import EXOPHONE, World, media_world, wait_event

__all__ = ["media_world"]  # the fixture, shared with the media tests
pytestmark = [pytest.mark.sip, pytest.mark.media]


def _menu() -> str:
    response = VoiceResponse()
    gather = Gather(num_digits=2, action="/chosen", timeout=10)
    gather.say("Enter two digits")
    response.append(gather)
    return str(response)


def _chosen(params: dict[str, str]) -> str:
    response = VoiceResponse()
    response.say("Thank you")
    response.hangup()
    return str(response)


def test_a_flow_gathers_digits_the_phone_sends(media_world: World) -> None:
    app = TwimlApp({"/menu": lambda params: _menu(), "/chosen": _chosen})
    api, phone = media_world()
    control = BaresipControl(phone.extra["ctrl"])
    try:
        response = api.http.post(api.base + "/legs", json={
            "contact_uri": f"sip:phone@127.0.0.1:{phone.port}", "exophone": EXOPHONE, "network_type": "voip",
            "flow_url": app.url("/menu")})
        assert response.status_code == 202, response.text
        leg_sid = response.json()["response"]["data"]["leg_sid"]
        control.wait_event("CALL_ESTABLISHED", timeout=10)
        # The prompt ended: the flow saw that event before it was committed, and sent the gather to the media
        # engine before this poll could read it, so the phone's digits reach a running gather.
        wait_event(api, leg_sid, "play_completed", seconds=20)
        for key in "42":
            control.command("sndcode", key)
            time.sleep(0.3)
        chosen = app.wait_for("/chosen")
        assert chosen.params["Digits"] == "42" and chosen.params["CallSid"] == leg_sid
        assert api.wait_terminal(leg_sid, 20)["terminal_status"] == "completed"
        keys = wait_event(api, leg_sid, "dtmf_received", count=2)
        assert [k["source"] for k in keys] == ["rfc4733", "rfc4733"]
        app.check_signed(api.account.webhook_secret)
    finally:
        control.close()
        app.close()
