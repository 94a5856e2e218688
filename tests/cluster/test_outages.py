"""A cluster node when what it rests on goes away: the database (cut by a relay the test owns), the bus (a
NATS URL nobody answers, or a relay to the real NATS server cut and restored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.nodes import Cluster, nats_running
from tests.cluster.test_cluster import HUMAN, connected_leg
from tests.legato_server import POSTGRES_URL, Api
from tests.outage import TcpProxy
from tests.waiting import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")]
LONG_LEASE = {"LEGATO_LEASE_RENEW_INTERVAL": "0.5", "LEGATO_LEASE_TTL": "600"}  # nobody takes the cut node over


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if not nats_running():
        pytest.skip("no NATS server at 127.0.0.1:4222 (.ci/run starts one)")
    made = Cluster(tmp_path, lease=LONG_LEASE)
    yield made
    made.stop()


def unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"]
    assert answer.json()["response"]["error_data"]["code"] == "unavailable"


def test_commands_through_a_node_whose_database_is_away_get_503_not_500(cluster: Cluster) -> None:
    proxy = TcpProxy(5432).restore()
    try:
        n1 = cluster.node("n1")
        n1.database_url = proxy.url_for(cluster.database_url)
        cluster.start("n1", "n2")
        account = n1.create_account("--exophone", "08030752400")
        api1 = Api(n1, account)
        leg = connected_leg(api1)
        assert leg["node"] == "n1"

        proxy.cut()  # n1 cannot reach PostgreSQL; where a command goes is read there
        unavailable(api1.action(leg["leg_sid"], action="hangup"))
        unavailable(api1.create_leg(HUMAN, leg_event_endpoint="http://127.0.0.1:9/events"))

        proxy.restore()
        hung = wait_for(lambda: api1.action(leg["leg_sid"], action="hangup"), lambda r: r.status_code != 503,
                        seconds=30, what="the hangup once the database is back")
        assert hung.status_code == 202, hung.text
        assert api1.wait_terminal(leg["leg_sid"])["hangup_cause"] == "hangup_requested"
    finally:
        proxy.close()
