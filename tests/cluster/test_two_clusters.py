"""Two clusters on one NATS server, their nodes named alike: each keeps to its own commands.

Each database has its own cluster id (migration 0018), and a node's command subject carries it. With the
subjects named by node alone, a create routed to "n2" of one cluster was answered by whichever "n2" replied
first: the other cluster's, which does not know the account (401).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from legato.cluster.placement import NodeView, home_node
from tests.cluster.nodes import Cluster, nats_running
from tests.legato_server import POSTGRES_URL, Api, drop_postgres_databases

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")]


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    if not nats_running():
        pytest.skip("no NATS server at 127.0.0.1:4222 (.ci/run starts one)")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    made = Cluster(tmp_path / "a"), Cluster(tmp_path / "b")
    yield made
    for cluster in made:
        for server in cluster.nodes.values():
            server.stop(signal.SIGKILL)
    drop_postgres_databases()


def test_commands_routed_to_a_node_name_stay_in_their_cluster(clusters: tuple[Cluster, Cluster]) -> None:
    a, b = clusters
    a1, _ = a.start("n1", "n2")
    b.start("n1", "n2")
    views = [NodeView("n1", {}, 0), NodeView("n2", {}, 0)]
    sid = next(s for s in (f"ACtwo{i}" for i in range(100)) if home_node(s, views).name == "n2")
    api = Api(a1, a1.create_account("--sid", sid, "--exophone", "08030752400", "--max-concurrent", "50"))

    # created through n1, placed on the limited account's home n2 over the bus: eight times, all in cluster a
    for _ in range(8):
        created = api.create_leg("09163816621")
        assert created.status_code == 202, created.text
        assert created.json()["response"]["data"]["node"] == "n2"
    assert a.database_url != b.database_url
