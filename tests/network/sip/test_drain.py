"""Draining on the real SIP network: SIGTERM hangs up a live call with a real BYE, ended platform_shutdown."""

from __future__ import annotations

import signal

import pytest

from tests.legato_server import Api
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_legs_api import dial, sip_world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.sip


def test_sigterm_sends_bye_to_a_live_call_and_records_platform_shutdown(
        sip_world: tuple[Api, Peers, int]) -> None:  # noqa: F811
    api, peers, _ = sip_world
    phone = next(peer for peer in peers.started if "ctrl" in peer.extra)
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = dial(api, "+919163816621")
        assert api.wait_state(leg_sid, "connected", seconds=10)["state"] == "connected"
        control.wait_event("CALL_ESTABLISHED", timeout=10)
        server = api.server
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)  # the test servers drain with no wait
        control.wait_event("CALL_CLOSED", timeout=15)  # the phone got a BYE
        assert server.process.wait(30) == 0
    finally:
        control.close()
    server.process = None
    server.start()
    leg = api.leg(leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"], leg["hangup_source"]) == \
        ("completed", "platform_shutdown", "platform")
    assert [e["event_name"] for e in api.events(leg_sid)].count("leg_terminated") == 1
