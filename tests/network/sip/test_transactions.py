"""The SIP edge: datagrams handled in arrival order (a 180 and a 200 sent back to back keep their order
over many calls, through the real server), INVITEs no leg can store refused before any leg exists, and
a SIP port that is this process's alone."""

from __future__ import annotations

import concurrent.futures
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATABASES
from tests.legato_server import Api, LegatoServer
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import free_port
from tests.network.sip.test_media_legs import CONFIG as SIP_ONLY

pytestmark = pytest.mark.sip
EXOPHONE = "+918030752400"
CALLS = 30

CONFIG = SIP_ONLY + """inbound_networks = ["127.0.0.1"]

[[sip.exophones]]
number = "{exophone}"
account_sid = "acme"
"""


def start_on_sip(make_server: Callable[..., LegatoServer], tmp_path: Path, kind: str = "sqlite") -> tuple[Api, int]:
    """Legato on SIP (no trunk: legs go to sip: URIs directly; 127.0.0.1 may call in), with one account."""
    sip_port, rtp = free_port(), free_port(count=2 * CALLS + 10)
    config = tmp_path / "legato.toml"
    config.write_text(CONFIG.format(sip_port=sip_port, rtp=rtp, rtp_max=rtp + 2 * CALLS + 9, exophone=EXOPHONE))
    server = make_server(kind, time_scale=1.0, env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)})
    account = server.create_account("--sid", "acme", "--exophone", EXOPHONE)
    server.start()
    return Api(server, account), sip_port


def test_ringing_then_answered_sent_back_to_back_keep_their_order(make_server, tmp_path: Path,
                                                                   peers: Peers) -> None:
    api, _ = start_on_sip(make_server, tmp_path)
    uas = peers.sipp("bye_after_answer", calls=CALLS, timeout=60)

    def call(_: int) -> list[str]:
        response = api.create_leg(f"sip:sipp@127.0.0.1:{uas.port}", exophone=EXOPHONE, network_type="voip")
        assert response.status_code == 202, response.text
        leg_sid = response.json()["response"]["data"]["leg_sid"]
        assert api.wait_terminal(leg_sid, seconds=30)["terminal_status"] == "completed"
        return [event["event_name"] for event in api.events(leg_sid)]

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        orders = list(pool.map(call, range(CALLS)))
    assert uas.wait(30) == 0, uas.log()[-2000:]
    wrong = [names for names in orders
             if names != ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]]
    assert wrong == [], f"{len(wrong)} of {CALLS} legs out of order: {wrong[:3]}"


@pytest.mark.parametrize("kind", DATABASES)
def test_nul_in_from_gets_400_and_leaves_nothing_behind(make_server, tmp_path: Path, peers: Peers,
                                                        kind: str) -> None:
    api, sip_port = start_on_sip(make_server, tmp_path, kind)
    caller = peers.invite(sip_port, EXOPHONE, caller="%00evil")  # "\0evil" once decoded: PostgreSQL refuses it
    assert caller.wait(15) == 0, caller.log()
    assert re.search(r"400 <-+\s+1\s", caller.log()), caller.log()
    listed = api.http.get(api.base + "/legs", params={"direction": "inbound"})
    assert listed.status_code == 200 and listed.json()["response"]["data"]["legs"] == []


async def test_a_sip_port_held_by_another_process_is_not_shared(sip) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:  # bound the way sippy binds by default
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", port))
        with pytest.raises(OSError, match="in use"):
            await sip(listen_port=port)


def test_a_bye_that_cannot_be_sent_is_reported_to_the_application(make_server, tmp_path: Path,
                                                                   peers: Peers) -> None:
    api, _ = start_on_sip(make_server, tmp_path)
    uas = peers.sipp("contact_transport", extra=["-key", "contact_transport", "tcp"])  # we only speak UDP
    response = api.create_leg(f"sip:sipp@127.0.0.1:{uas.port}", exophone=EXOPHONE, network_type="voip")
    leg_sid = response.json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected", seconds=15)["state"] == "connected"
    assert api.action(leg_sid, action="hangup").status_code == 202
    events = api.wait_event(leg_sid, "leg_terminated", seconds=15)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_answered", "leg_hangup_failed",
                                                 "leg_terminated"]  # the end is told once the BYE failed
    assert "the BYE could not be sent after 4 tries" in str(events[-2]), events[-2]
    assert api.leg(leg_sid)["hangup_cause"] == "hangup_failed"
