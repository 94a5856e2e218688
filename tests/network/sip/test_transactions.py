"""The SIP socket is read in arrival order: a 180 and a 200 sent back to back are seen in that order
(many calls at once through the real server; SIPp answers each with 180 then 200 at once, then BYEs)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.legato_server import Api, LegatoServer
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import free_port

pytestmark = pytest.mark.sip
EXOPHONE = "+918030752400"
CALLS = 30

CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    """Legato on SIP (no trunk: legs go to sip: URIs directly), with one account."""
    rtp = free_port(count=2 * CALLS + 10)
    config = tmp_path / "legato.toml"
    config.write_text(CONFIG.format(sip_port=free_port(), rtp=rtp, rtp_max=rtp + 2 * CALLS + 9))
    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}",
                          time_scale=1.0, env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)})
    account = server.create_account("--sid", "acme", "--exophone", EXOPHONE)
    server.start()
    try:
        yield Api(server, account)
    finally:
        server.stop()


def test_ringing_then_answered_sent_back_to_back_keep_their_order(api: Api, peers: Peers) -> None:
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
