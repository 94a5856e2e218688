"""Inbound SIP across a cluster: Kamailio with deploy/kamailio/kamailio.cfg (dispatcher) in front of two Legato
nodes on PostgreSQL and NATS; calls reach both nodes; one node is SIGKILLed and new calls go to the survivor;
an outbound call leaves through the same front to the carrier."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.nodes import Cluster, nats_running
from tests.legato_server import POSTGRES_URL, Api
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl, Peer, _ready, _spawn, free_port, udp_bound
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.sip,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set"),
]
EXOPHONE = "+918030752400"
CALLED = "+919163816621"
KAMAILIO_CFG = Path(__file__).resolve().parents[3] / "deploy" / "kamailio" / "kamailio.cfg"
NODE_CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
inbound_networks = ["127.0.0.1"]
default_trunk = "front"

[[sip.trunks]]
name = "front"
proxy = "sip:127.0.0.1:{front_port}"
number_format = "e164"

[[sip.exophones]]
number = "{exophone}"
account_sid = "acme"
trunk = "front"
"""


def start_front(peers: Peers, workdir: Path, port: int, node_ports: list[int], carrier: int) -> Peer:
    """Kamailio with the shipped configuration on `port`, dispatching to the nodes' SIP ports (OPTIONS every
    second), relaying the nodes' outbound calls to the carrier at `carrier`."""
    workdir.mkdir(parents=True, exist_ok=True)
    listing = workdir / "dispatcher.list"
    listing.write_text("".join(f"1 sip:127.0.0.1:{port}\n" for port in node_ports))
    rundir = workdir / "run"
    rundir.mkdir(exist_ok=True)
    argv = [
        shutil.which("kamailio") or "/usr/sbin/kamailio",
        "-DD",
        "-E",
        "-f",
        str(KAMAILIO_CFG),
        "-l",
        f"udp:127.0.0.1:{port}",
        "-Y",
        str(rundir),
        "-P",
        str(rundir / "kamailio.pid"),
        "-m",
        "32",
        "-M",
        "8",
        "-A",
        f'DISPATCHER_LIST="{listing}"',
        "-A",
        "DS_PING=1",
        "-A",
        "NODE_TIMEOUT=1000",
        "-A",
        f'CARRIER="sip:127.0.0.1:{carrier}"',
    ]
    return peers._keep(_ready(_spawn("kamailio", argv, workdir, port), lambda: udp_bound(port), 10, "kamailio"))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if not nats_running():
        pytest.skip("no NATS server at 127.0.0.1:4222 (.ci/run starts one)")
    made = Cluster(tmp_path, time_scale=1.0)
    yield made
    made.stop()


def call_once(api: Api, control: BaresipControl, front_port: int, seen: set[str]) -> dict[str, object]:
    """Call the exophone through the front; return the new inbound leg (then hung up through the API)."""
    control.command("dial", f"sip:{EXOPHONE}@127.0.0.1:{front_port}")
    fresh = wait_for(lambda: [leg for leg in api.inbound_legs() if leg["leg_sid"] not in seen], seconds=20,
                     what="a new inbound leg")
    leg = fresh[0]
    seen.add(str(leg["leg_sid"]))
    assert api.action(str(leg["leg_sid"]), action="hangup").status_code == 202  # routed to the owner
    control.wait_event("CALL_CLOSED", timeout=10)
    assert api.wait_terminal(str(leg["leg_sid"]))["state"] == "terminal"
    return leg


def test_inbound_calls_reach_both_nodes_then_only_the_survivor(peers: Peers, cluster: Cluster, tmp_path: Path) -> None:
    sip_ports, front_port = [free_port(), free_port()], free_port()
    for index, name in enumerate(("n1", "n2")):
        rtp = free_port(count=20)
        config = tmp_path / f"{name}.toml"
        config.write_text(
            NODE_CONFIG.format(
                sip_port=sip_ports[index], rtp=rtp, rtp_max=rtp + 19, exophone=EXOPHONE, front_port=front_port
            )
        )
        cluster.env[name] = {"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)}
    account = cluster.node("n1").create_account("--sid", "acme", "--exophone", EXOPHONE)  # known at start
    n1, n2 = cluster.start("n1", "n2")
    phone = peers.phone(user=CALLED)  # the carrier's side of outbound calls: answers
    front = start_front(peers, tmp_path / "front", front_port, sip_ports, phone.port)
    caller = peers.phone(user="caller")
    control = BaresipControl(caller.extra["ctrl"])
    api = Api(n2, account)
    seen: set[str] = set()
    try:
        owners = [call_once(api, control, front.port, seen)["node"] for _ in range(4)]
        assert set(owners) == {"n1", "n2"}, owners  # round robin over both nodes

        n1.stop(signal.SIGKILL)
        after = [call_once(api, control, front.port, seen)["node"] for _ in range(4)]
        assert after == ["n2"] * 4, after

        # Outbound through the front: the node's trunk is Kamailio, which relays to the carrier (the phone).
        created = api.create_leg(CALLED, exophone=EXOPHONE)
        assert created.status_code == 202, created.text
        leg_sid = created.json()["response"]["data"]["leg_sid"]
        assert api.wait_state(leg_sid, "connected", seconds=20)["state"] == "connected"
        assert api.action(leg_sid, action="hangup").status_code == 202
        ended = api.wait_terminal(leg_sid)
        assert (ended["terminal_status"], ended["hangup_cause"]) == ("completed", "hangup_requested")
    finally:
        control.close()
