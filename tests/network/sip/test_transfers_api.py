"""Transfers through the HTTP API on the real SIP network, with baresip phones and a SIPp phone:

- blind: Legato REFERs alice to carol; alice calls carol (carol's phone answers), the leg ends `transferred`;
- blind, refused: a SIPp phone answers the REFER 603; the leg stays up and gets `transfer_failed`;
- attended: Legato dials carol and bridges her with alice when she answers; carol hears alice's tone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.legato_server import Api, LegatoServer
from tests.network.sip import audio
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl, free_port

pytestmark = [pytest.mark.sip, pytest.mark.media]
EXOPHONE = "+918030752400"
CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}

[[sip.exophones]]
number = "{exophone}"
account_sid = "acme"
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Peers, Path]]:
    root = tmp_path_factory.mktemp("transfers-sip")
    peers = Peers(root)
    sip_port, rtp = free_port(), free_port(count=40)
    config = root / "legato.toml"
    config.write_text(CONFIG.format(sip_port=sip_port, rtp=rtp, rtp_max=rtp + 39, exophone=EXOPHONE))
    server = LegatoServer(
        workdir=root,
        database_url=f"sqlite+aiosqlite:///{root / 'legato.db'}",
        time_scale=1.0,
        env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)},
    )
    account = server.create_account("--sid", "acme", "--exophone", EXOPHONE)
    server.start()
    try:
        yield Api(server, account), peers, root
    finally:
        server.stop()
        survivors = peers.stop_all()
        assert not survivors, f"peers still running after the tests: {survivors}"


def names(api: Api, leg_sid: str) -> list[str]:
    return [e["event_name"] for e in api.events(leg_sid)]


def connected(api: Api, uri: str) -> str:
    response = api.create_leg(uri, exophone=EXOPHONE, network_type="voip")
    assert response.status_code == 202, response.text
    leg_sid = response.json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected", seconds=10)["state"] == "connected"
    return str(leg_sid)


def wait_event(api: Api, leg_sid: str, name: str, seconds: float = 10) -> list[dict[str, Any]]:
    return api.wait_event(leg_sid, name, seconds=seconds)


def test_blind_transfer_to_a_phone_that_takes_it(world: tuple[Api, Peers, Path]) -> None:
    api, peers, _ = world
    alice, carol = peers.phone(user="alice"), peers.phone(user="carol")
    control = BaresipControl(carol.extra["ctrl"])
    try:
        leg_sid = connected(api, f"sip:alice@127.0.0.1:{alice.port}")
        carol_uri = f"sip:carol@127.0.0.1:{carol.port}"
        accepted = api.action(leg_sid, action="transfer", to=carol_uri, mode="blind")
        assert accepted.status_code == 202, accepted.text
        ended = api.wait_terminal(leg_sid, seconds=15)
        assert (ended["terminal_status"], ended["hangup_cause"]) == ("completed", "transferred")
        assert names(api, leg_sid) == [
            "leg_connecting",
            "leg_ringing",
            "leg_answered",
            "transfer_answered",
            "transfer_completed",
            "leg_terminated",
        ]
        done = api.events(leg_sid)[4]["payload"]["event_data"]["data"]
        assert (done["transfer_to"], done["sip_code"]) == (carol_uri, 200)
        control.wait_event("CALL_ESTABLISHED", timeout=10)  # alice's phone called carol's, which answered
        control.command("hangup")
        control.wait_event("CALL_CLOSED", timeout=10)
    finally:
        control.close()


def test_blind_transfer_refused_by_the_far_end(world: tuple[Api, Peers, Path]) -> None:
    api, peers, _ = world
    far = peers.sipp("refer_refused", timeout=30)
    leg_sid = connected(api, f"sip:uas@127.0.0.1:{far.port}")
    assert api.action(leg_sid, action="transfer", to="sip:carol@127.0.0.1:5999").status_code == 202
    failed = wait_event(api, leg_sid, "transfer_failed")[-1]["payload"]["event_data"]
    assert failed["data"]["sip_code"] == 603 and failed["error"]["error_code"] == 21
    assert api.leg(leg_sid)["state"] == "connected"
    assert api.action(leg_sid, action="hangup").status_code == 202
    assert far.wait(10) == 0, far.log()
    assert names(api, leg_sid)[-2:] == ["transfer_failed", "leg_terminated"]


def test_attended_transfer_bridges_a_third_phone(world: tuple[Api, Peers, Path]) -> None:
    api, peers, root = world
    alice = peers.phone(user="alice", tone_hz=440)
    carol = peers.phone(user="carol", tone_hz=1300, dump_dir=root / "carol-heard")
    control = BaresipControl(carol.extra["ctrl"])
    try:
        leg_sid = connected(api, f"sip:alice@127.0.0.1:{alice.port}")
        carol_uri = f"sip:carol@127.0.0.1:{carol.port}"
        assert api.action(leg_sid, action="transfer", to=carol_uri, mode="attended").status_code == 202
        events = wait_event(api, leg_sid, "transfer_completed")
        assert [e["event_name"] for e in events][3:] == ["transfer_answered", "leg_joined_bridge", "transfer_completed"]
        new_sid = events[-1]["payload"]["event_data"]["data"]["transfer_leg_sid"]
        new_leg = api.leg(new_sid)
        assert (new_leg["state"], new_leg["contact_uri"], new_leg["exophone"]) == ("connected", carol_uri, EXOPHONE)
        control.wait_event("CALL_ESTABLISHED", timeout=5)
        time.sleep(1.5)  # kept: carol hears alice's real-time audio through the bridge for this long
        assert api.action(leg_sid, action="hangup").status_code == 202  # alice leaves: carol is hung up too
        assert api.wait_terminal(new_sid)["hangup_cause"] == "bridge_ended"
        assert names(api, new_sid)[-3:] == ["leg_left_bridge", "bridge_completed", "leg_terminated"]
        control.wait_event("CALL_CLOSED", timeout=10)  # carol's recording of what she heard is complete
    finally:
        control.close()
    [heard] = (root / "carol-heard").glob("*-dec.wav")
    assert audio.tone_share(heard, 440) > 0.5  # alice's tone reached carol
