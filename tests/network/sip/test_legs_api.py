"""Legs through the HTTP API on the real SIP network: each sandbox magic number has a SIP twin that
ends in the same state, terminal_status and cause (Kamailio as the carrier, baresip and SIPp as phones)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.legato_server import Api, LegatoServer
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.sip
EXOPHONE = "+918030752400"

CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
default_trunk = "carrier"

[[sip.trunks]]
name = "carrier"
proxy = "sip:127.0.0.1:{carrier_port}"
number_format = "e164"

[[sip.exophones]]
number = "{exophone}"
account_sid = "acme"
trunk = "carrier"
"""


def start_world(peers: Peers, tmp_path: Path, exophone: str = EXOPHONE, default_trunk: bool = True,
                account_args: tuple[str, ...] = ("--exophone", EXOPHONE)) -> tuple[Api, LegatoServer, int]:
    """A carrier (Kamailio) with an auto-answering phone and a hang-up-at-once UAS, and Legato on SIP."""
    phone = peers.phone()
    hangup = peers.sipp("bye_after_answer", timeout=60)
    carrier = peers.carrier(phone, hangup=hangup)
    sip_port = free_port(count=1)
    rtp = free_port(count=40)
    config = tmp_path / "legato.toml"
    text = CONFIG.format(sip_port=sip_port, rtp=rtp, rtp_max=rtp + 39, carrier_port=carrier.port, exophone=exophone)
    config.write_text(text if default_trunk else text.replace('default_trunk = "carrier"\n', ""))
    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}",
                          time_scale=1.0, env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)})
    account = server.create_account("--sid", "acme", *account_args)
    server.start()
    return Api(server, account), server, sip_port


@pytest.fixture
def sip_world(peers: Peers, tmp_path: Path) -> Iterator[tuple[Api, Peers, int]]:
    api, server, sip_port = start_world(peers, tmp_path)
    try:
        yield api, peers, sip_port
    finally:
        server.stop()


def dial(api: Api, number: str, **fields: object) -> str:
    response = api.create_leg(number, exophone=EXOPHONE, **fields)
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]


@pytest.mark.parametrize(("number", "fields", "status", "code", "cause"), [
    ("+919163810001", {}, "busy", 17, "user_busy"),
    ("+919163810002", {"ring_timeout": 2}, "no-answer", 19, "ring_timeout"),
    ("+919163810003", {}, "failed", 1, "unallocated_number"),
    ("+919163810006", {"setup_timeout": 2}, "failed", 102, "setup_timeout"),
    ("+919163810007", {}, "completed", 16, "normal_clearing"),
    ("+919163810008", {}, "failed", 41, "temporary_failure"),
])
def test_magic_number_twins_end_like_the_sandbox(sip_world: tuple[Api, Peers, int], number: str,
                                                 fields: dict[str, object], status: str, code: int,
                                                 cause: str) -> None:
    api, _, _ = sip_world
    leg = api.wait_terminal(dial(api, number, **fields), seconds=15)
    assert (leg["state"], leg["terminal_status"], leg["hangup_cause_code"], leg["hangup_cause"]) == \
        ("terminal", status, code, cause)
    names = [e["event_name"] for e in api.events(leg["leg_sid"])]
    assert names.count("leg_terminated") == 1 and names[0] == "leg_connecting"
    if number.endswith("0001"):
        assert leg["sip_response_code"] == 486


def test_answered_by_a_real_phone_then_hung_up_by_the_api(sip_world: tuple[Api, Peers, int]) -> None:
    api, _, _ = sip_world
    leg_sid = dial(api, "+919163816621")
    leg = api.wait_state(leg_sid, "connected", seconds=10)
    assert leg["state"] == "connected"
    hung = api.action(leg_sid, action="hangup")
    assert hung.status_code == 202
    leg = api.wait_terminal(leg_sid)
    assert (leg["terminal_status"], leg["hangup_source"], leg["hangup_cause"]) == \
        ("completed", "platform", "hangup_requested")
    names = [e["event_name"] for e in api.events(leg_sid)]
    # baresip sends 180 then 200 at once; one Kamailio worker and our one socket reader keep that order
    assert names == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]


def test_inbound_call_from_a_real_phone_is_answered_through_the_api(sip_world: tuple[Api, Peers, int]) -> None:
    api, peers, sip_port = sip_world
    caller = peers.phone(user="caller")
    control = BaresipControl(caller.extra["ctrl"])
    try:
        control.command("dial", f"sip:{EXOPHONE}@127.0.0.1:{sip_port}")
        leg = wait_for(api.inbound_legs, seconds=10, what="an inbound leg")[0]
        assert leg["state"] == "ringing"
        control.wait_event("CALL_RINGING", timeout=5)
        assert api.action(str(leg["leg_sid"]), action="answer").status_code == 202
        control.wait_event("CALL_ESTABLISHED", timeout=5)
        api.action(str(leg["leg_sid"]), action="hangup")
        control.wait_event("CALL_CLOSED", timeout=5)
        ended = api.wait_terminal(str(leg["leg_sid"]))
        assert ended["terminal_status"] == "completed"
        assert [e["event_name"] for e in api.events(str(leg["leg_sid"]))] == \
            ["leg_incoming", "leg_answered", "leg_terminated"]
    finally:
        control.close()


def test_inbound_to_an_unknown_number_is_refused(sip_world: tuple[Api, Peers, int]) -> None:
    _, peers, sip_port = sip_world
    caller = peers.phone(user="caller")
    control = BaresipControl(caller.extra["ctrl"])
    try:
        control.command("dial", f"sip:+911111111111@127.0.0.1:{sip_port}")
        closed = control.wait_event("CALL_CLOSED", timeout=10)
        assert "404" in str(closed.get("param"))
    finally:
        control.close()


def test_exophone_in_the_accounts_national_form_goes_to_its_trunk(peers: Peers, tmp_path: Path) -> None:
    # The config names the exophone in E.164 and has no default trunk; the account reads numbers as US.
    api, server, _ = start_world(peers, tmp_path, exophone="+14155550100", default_trunk=False,
                                 account_args=("--region", "US", "--exophone", "415-555-0100"))
    try:
        response = api.create_leg("+919163810001", exophone="4155550100")
        assert response.status_code == 202, response.text
        leg = api.wait_terminal(response.json()["response"]["data"]["leg_sid"], seconds=15)
        assert (leg["terminal_status"], leg["sip_response_code"]) == ("busy", 486)  # through the carrier
    finally:
        server.stop()
