"""A cluster node when what it rests on goes away: the database (cut by a relay the test owns), the bus (a
NATS URL nobody answers, or a relay to the real NATS server cut and restored)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from legato.store.database import create_engine
from legato.store.nodes import NodeRepository
from tests.cluster.nodes import Cluster, nats_running
from tests.cluster.test_cluster import HUMAN, connected_leg
from tests.legato_server import POSTGRES_URL, Api, free_port
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


def published(url: str, name: str) -> dict[str, object]:
    """Node `name`'s row as its last lease renewal wrote it."""
    async def read() -> dict[str, object]:
        engine = create_engine(url)
        try:
            row = await NodeRepository(engine).get(name)
            assert row is not None
            return row
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_node_that_cannot_reach_the_bus_refuses_to_start_saying_so(cluster: Cluster) -> None:
    server = cluster.node("n1")
    nowhere = f"nats://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [sys.executable, "-m", "legato", "serve", "--port", str(free_port()), "--node", "n9", "--bus", nowhere],
        cwd=server.workdir, env=server._env(), capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: BusUnreachable: cannot reach the cluster's bus at " + nowhere), last
    assert "Traceback" not in result.stderr  # one line per problem, not the client's traceback per attempt
    assert "node n9 holds its lease" not in result.stderr  # it took no lease (and no legs) first


def test_a_node_off_the_bus_gets_no_new_legs_from_the_others(cluster: Cluster) -> None:
    proxy = TcpProxy(4222).restore()
    try:
        n1 = cluster.node("n1")
        n1.args = ["--node", "n1", "--bus", f"nats://127.0.0.1:{proxy.port}"]
        cluster.env["n2"] = {"LEGATO_ROUTE_TIMEOUT": "1"}
        n1, n2 = cluster.start("n1", "n2")
        account = n1.create_account("--exophone", "08030752400")
        api2 = Api(n2, account)

        proxy.cut()  # n1 is off the bus: no create sent there could reach it
        wait_for(lambda: Api(n1, account).http.get("/readyz").json()["response"]["data"]["checks"]["bus"],
                 lambda check: check != "ok", seconds=30, what="n1's readiness saying it is off the bus")
        wait_for(lambda: published(cluster.database_url, "n1")["bus"], lambda bus: bus is False, seconds=30,
                 what="n1 publishing that it takes no new legs")
        def create() -> httpx.Response:
            return api2.create_leg(HUMAN, leg_event_endpoint="http://127.0.0.1:9/events")

        for _ in range(3):  # n2 takes these by load whatever it knows of n1
            assert create().json()["response"]["data"]["node"] == "n2"
        for _ in range(2):  # more than 2 legs above n1's: by load, these would go to n1, which cannot get them
            created = wait_for(create, lambda r: r.status_code == 202, seconds=30,  # once n2 read n1's row again
                               what="a create n2 keeps (n1 off the bus)")
            assert created.json()["response"]["data"]["node"] == "n2"

        proxy.restore()  # back on the bus: placed on again
        wait_for(lambda: published(cluster.database_url, "n1")["bus"], lambda bus: bus is True, seconds=30,
                 what="n1 taking new legs again")
    finally:
        proxy.close()


def test_a_create_sent_to_a_draining_node_goes_to_another(cluster: Cluster) -> None:
    cluster.lease = {"LEGATO_LEASE_RENEW_INTERVAL": "30", "LEGATO_LEASE_TTL": "600"}  # its row says "taking legs"
    cluster.env["n1"] = {"LEGATO_DRAIN_TIMEOUT": "60"}
    n1, _ = cluster.start("n1", "n2")
    account = n1.create_account("--exophone", "08030752400")
    api1 = Api(n1, account)
    assert connected_leg(api1)["node"] == "n1"  # a live leg: the drain waits for it
    assert n1.process is not None
    n1.process.send_signal(signal.SIGTERM)
    wait_for(lambda: api1.http.get("/readyz").json()["response"]["data"]["checks"]["drain"],
             lambda check: check == "draining", seconds=30, what="n1 draining")
    created = api1.create_leg(HUMAN, leg_event_endpoint="http://127.0.0.1:9/events")
    assert created.status_code == 202, created.text
    assert created.json()["response"]["data"]["node"] == "n2"

