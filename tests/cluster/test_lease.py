"""Node leases: two processes on one database never take each other's live legs.

Real `legato serve` processes on SQLite and PostgreSQL: a second process with the same node name refuses to
start while the first holds its lease; one with another name leaves the first one's legs alone; the legs of
a node whose lease expired are ended once (node_lost) by the next node that starts.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from legato.store.database import create_engine
from legato.store.nodes import NodeRepository
from tests.conftest import DATABASES
from tests.legato_server import Api, LegatoServer, free_port

LONG_LEASE = {"LEGATO_LEASE_TTL": "600", "LEGATO_LEASE_RENEW_INTERVAL": "1"}
"""A lease that outlives the test unless the test ends it (see `let_lease_expire`)."""
Make = Callable[..., LegatoServer]


def servers_on_one_database(make_server: Make, database: str) -> Make:
    """Make servers (time scale 5) that share the first one's database, each on its own port."""
    shared: list[str] = []

    def make(*args: str, env: dict[str, str] | None = None) -> LegatoServer:
        server = make_server(database, time_scale=5.0, args=list(args), env=env or {},
                             **({"database_url": shared[0]} if shared else {}))
        shared.append(server.database_url)
        return server

    return make


def up_leg(api: Api) -> str:
    """A leg the sandbox answers and keeps up."""
    created = api.create_leg("09163816621")
    assert created.status_code == 202, created.text
    leg_sid = created.json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected")["state"] == "connected"
    return leg_sid


def ends_once(api: Api, leg_sid: str) -> dict:  # type: ignore[type-arg]
    leg = api.wait_terminal(leg_sid)
    names = [e["event_name"] for e in api.events(leg_sid)]
    assert names.count("leg_terminated") == 1 and names[-1] == "leg_terminated", names
    return leg


@pytest.mark.parametrize("database", DATABASES)
def test_same_node_name_refuses_to_start_while_the_first_runs(make_server: Make, database: str) -> None:
    on_one_database = servers_on_one_database(make_server, database)
    first = on_one_database().start()
    api = Api(first, first.create_account("--exophone", "08030752400"))
    leg_sid = up_leg(api)

    second = on_one_database()
    with pytest.raises(RuntimeError) as refused:
        second.start()
    message = str(refused.value)
    assert "node 'default' is already running on this database" in message
    assert "--node NAME" in message
    assert second.process is not None and second.process.returncode != 0

    assert api.leg(leg_sid)["state"] == "connected"  # the first still holds the call
    assert "leg_terminated" not in [e["event_name"] for e in api.events(leg_sid)]
    assert api.action(leg_sid, action="hangup").status_code == 202
    leg = ends_once(api, leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"]) == ("completed", "hangup_requested")

    first.stop()  # a clean stop lets the lease go: the same name starts again at once
    first.port = free_port()
    first.start()
    assert Api(first, api.account).http.get("/healthz").json()["response"]["data"]["node"] == "default"


@pytest.mark.parametrize("database", DATABASES)
def test_another_node_name_leaves_the_first_ones_legs_alone(make_server: Make, database: str) -> None:
    on_one_database = servers_on_one_database(make_server, database)
    first = on_one_database().start()
    account = first.create_account("--exophone", "08030752400")
    api_first = Api(first, account)
    theirs = up_leg(api_first)

    second = on_one_database("--node", "b", env=LONG_LEASE).start()  # a slow restart must not let it expire
    api_second = Api(second, account)
    mine = up_leg(api_second)
    assert api_second.leg(theirs)["state"] == "connected"  # read from the shared database

    second.stop(signal.SIGKILL)  # b dies; restarted, it ends its own legs and only those
    second.port = free_port()
    second.start()
    leg = ends_once(Api(second, account), mine)
    assert (leg["terminal_status"], leg["hangup_cause"]) == ("failed", "platform_restart")
    assert api_first.leg(theirs)["state"] == "connected"
    assert api_first.action(theirs, action="hangup").status_code == 202
    assert ends_once(api_first, theirs)["hangup_cause"] == "hangup_requested"


@pytest.mark.parametrize("database", DATABASES)
def test_legs_of_a_node_whose_lease_expired_end_once_as_node_lost(make_server: Make, database: str) -> None:
    on_one_database = servers_on_one_database(make_server, database)
    dead = on_one_database("--node", "a", env=LONG_LEASE).start()
    account = dead.create_account("--exophone", "08030752400")
    leg_sid = up_leg(Api(dead, account))
    dead.stop(signal.SIGKILL)

    survivor = on_one_database("--node", "b").start()  # a's lease is still alive: hands off
    api = Api(survivor, account)
    assert api.leg(leg_sid)["state"] == "connected"
    survivor.stop()

    let_lease_expire(dead.database_url, "a")
    survivor.port = free_port()
    survivor.start()
    api = Api(survivor, account)
    leg = ends_once(api, leg_sid)
    assert (leg["terminal_status"], leg["hangup_cause"]) == ("failed", "node_lost")
    survivor.stop(signal.SIGKILL)
    survivor.start()  # a second start finds nothing more to end
    assert [e["event_name"] for e in api.events(leg_sid)].count("leg_terminated") == 1


def let_lease_expire(url: str, name: str) -> None:
    """Time passes for node `name`: its lease is over (as 600 s after its last renewal)."""
    async def expire() -> None:
        engine = create_engine(url)
        try:
            nodes = NodeRepository(engine)
            row = await nodes.get(name)
            assert row is not None
            past = datetime.now(UTC) - timedelta(seconds=1)
            assert await nodes.renew(name, row["epoch"], past, row["renewed_at"])
        finally:
            await engine.dispose()

    asyncio.run(expire())
