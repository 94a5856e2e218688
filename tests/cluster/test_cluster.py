"""A cluster of real `legato serve` nodes on loopback sharing PostgreSQL and a NATS bus.

Commands reach a leg's owner whichever node is asked; a SIGKILLed node's legs are ended once (node_lost) and
its undelivered events delivered in order by a survivor; the node restarted after that changes nothing.
"""

from __future__ import annotations

import concurrent.futures
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from legato.cluster.placement import NodeView, home_node
from tests.cluster.nodes import BUS_URL, Cluster, nats_running
from tests.cluster.test_lease import let_lease_expire
from tests.events.receivers import Answer, HttpReceiver
from tests.legato_server import (
    POSTGRES_URL,
    Api,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if not nats_running():
        pytest.skip("no NATS server at 127.0.0.1:4222 (.ci/run starts one)")
    made = Cluster(tmp_path)
    yield made
    made.stop()


def connected_leg(api: Api, endpoint: str = "http://127.0.0.1:9/events", **fields: Any) -> dict[str, Any]:
    created = api.create_leg("09163816621", leg_event_endpoint=endpoint, **fields)
    assert created.status_code == 202, created.text
    leg = created.json()["response"]["data"]
    assert api.wait_state(leg["leg_sid"], "connected")["state"] == "connected"
    return leg


def home_on(node: str) -> str:
    """An account sid whose home node (cluster/placement.py) among n1, n2, n3 is `node`."""
    views = [NodeView(name, {}, 0) for name in ("n1", "n2", "n3")]
    return next(sid for sid in (f"AChome{i}" for i in range(100)) if home_node(sid, views).name == node)


def written(api: Api, leg_sid: str) -> list[tuple[str, int, str]]:
    """The leg's events as written (not their delivery status, which the survivor keeps updating)."""
    return [(e["event_sid"], e["sequence"], e["event_name"]) for e in api.events(leg_sid)]


def test_a_leg_made_through_one_node_is_hung_up_through_another_and_read_through_a_third(cluster: Cluster) -> None:
    n1, n2, n3 = cluster.start("n1", "n2", "n3")
    account = n1.create_account("--exophone", "08030752400")
    api1, api2, api3 = Api(n1, account), Api(n2, account), Api(n3, account)
    assert [Api(n, account).http.get("/healthz").json()["response"]["data"]["node"] for n in (n1, n2, n3)] == [
        "n1",
        "n2",
        "n3",
    ]

    leg = connected_leg(api1)
    owner = leg["node"]
    assert owner in ("n1", "n2", "n3") and api3.leg(leg["leg_sid"])["node"] == owner
    other = next(api for api, name in ((api1, "n1"), (api2, "n2"), (api3, "n3")) if name != owner)
    stranger = httpx.post(
        f"{other.server.url}{other.base}/legs/{leg['leg_sid']}/actions",
        json={"action": "hangup"},
        auth=("nobody", "wrong"),
        timeout=10,
    )
    assert stranger.status_code == 401  # refused by the node asked, before routing
    hung = other.action(leg["leg_sid"], action="hangup")
    assert hung.status_code == 202, hung.text
    assert hung.json()["response"]["data"]["leg_sid"] == leg["leg_sid"]
    ended = api3.wait_terminal(leg["leg_sid"])
    assert (ended["terminal_status"], ended["hangup_cause"]) == ("completed", "hangup_requested")
    names = [e["event_name"] for e in api3.events(leg["leg_sid"])]
    assert names.count("leg_terminated") == 1 and names[-1] == "leg_terminated"

    # The owner's refusal comes back as it was given: hanging up an ended leg, through any node.
    again = other.action(leg["leg_sid"], action="hangup")
    direct = Api(cluster.node(owner), account).action(leg["leg_sid"], action="hangup")
    assert again.status_code == direct.status_code == 409
    assert again.json()["response"]["error_data"] == direct.json()["response"]["error_data"]

    # A leg co-located with a reference leg lands on the reference's node, whichever node is asked.
    reference = connected_leg(api2)
    beside = connected_leg(api3, reference_leg_sid=reference["leg_sid"])
    assert api1.leg(beside["leg_sid"])["node"] == reference["node"]
    bridge = api1.http.post(f"{api1.base}/bridges", json={"leg_sids": [reference["leg_sid"], beside["leg_sid"]]})
    assert bridge.status_code == 201, bridge.text


def test_a_killed_nodes_legs_end_once_and_its_events_are_delivered_in_order(cluster: Cluster) -> None:
    n1, n2, n3 = cluster.start("n1", "n2", "n3")
    account = n1.create_account("--exophone", "08030752400")
    api1, api2, api3 = Api(n1, account), Api(n2, account), Api(n3, account)
    blocked = threading.Event()
    blocked.set()
    receiver = HttpReceiver(lambda n, h: Answer(503, {"Retry-After": "1"}) if blocked.is_set() else Answer())
    try:
        held = [connected_leg(api1, receiver.url) for _ in range(3)]  # the first three stay on n1 (by load)
        assert {leg["node"] for leg in held} == {"n1"}
        other = connected_leg(api2, receiver.url)
        assert other["node"] == "n2"
        before = {leg["leg_sid"]: api2.events(leg["leg_sid"]) for leg in held}
        assert all(e["delivery"]["status"] == "pending" for events in before.values() for e in events)
        bridge = api2.http.post(f"{api2.base}/bridges", json={"leg_sids": [held[0]["leg_sid"], held[1]["leg_sid"]]})
        assert bridge.status_code == 201, bridge.text  # made on n1, through n2
        bridge_sid = bridge.json()["response"]["data"]["bridge_sid"]
        limited = Api(n1, n1.create_account("--sid", home_on("n1"), "--exophone", "08030752400", "--cps", "1"))
        with concurrent.futures.ThreadPoolExecutor(4) as pool:  # its home is n1: queued there at 1 cps
            queued = list(pool.map(lambda _: limited.create_leg(HUMAN).json()["response"]["data"], range(20)))
        listed = limited.http.get(limited.base + "/legs").json()["response"]["data"]["legs"]
        assert {leg["node"] for leg in queued} == {"n1"}
        assert any(leg["state"] == "enqueued" for leg in listed)

        n1.stop(signal.SIGKILL)  # with live legs, enqueued legs and undelivered events
        blocked.clear()
        for leg in queued:  # enqueued or started, each ends once with a clear cause
            ended = Api(n2, limited.account).wait_terminal(leg["leg_sid"], seconds=60)
            assert (ended["terminal_status"], ended["hangup_cause"]) == ("failed", "node_lost")
            names = [e["event_name"] for e in Api(n2, limited.account).events(leg["leg_sid"])]
            assert names.count("leg_terminated") == 1 and names[-1] == "leg_terminated", names
        for leg in held:
            ended = api3.wait_terminal(leg["leg_sid"], seconds=60)
            assert (ended["terminal_status"], ended["hangup_cause"]) == ("failed", "node_lost")
            assert ended["node"] in ("n2", "n3")
            stored = api3.events(leg["leg_sid"])
            names = [e["event_name"] for e in stored]
            assert names.count("leg_terminated") == 1 and names[-1] == "leg_terminated", names
            assert [e["event_sid"] for e in stored[: len(before[leg["leg_sid"]])]] == [
                e["event_sid"] for e in before[leg["leg_sid"]]
            ]
            delivered = receiver.wait_terminated(leg["leg_sid"], seconds=60)
            assert [e["event_sid"] for e in delivered] == [e["event_sid"] for e in stored]  # all, in order
        assert api3.leg(other["leg_sid"])["state"] == "connected"  # n2's legs are n2's
        ended_bridge = wait_for(
            lambda: api3.http.get(f"{api3.base}/bridges/{bridge_sid}").json()["response"]["data"],
            lambda bridge: bridge["state"] == "terminated", seconds=60, what=None,
        )
        assert (ended_bridge["state"], ended_bridge["end_reason"]) == ("terminated", "node_lost")

        # n1 restarted: its lease had expired and was taken over; it changes nothing it lost.
        lost = {sid: (api2.leg(sid), written(api2, sid)) for sid in before}
        restarted = Api(cluster.restart("n1"), account)
        assert restarted.http.get("/readyz").status_code == 200
        for sid, (leg, events) in lost.items():
            assert restarted.leg(sid) == leg
            assert written(restarted, sid) == events
        hung = restarted.action(other["leg_sid"], action="hangup")  # and serves the cluster again
        assert hung.status_code == 202, hung.text
        assert api3.wait_terminal(other["leg_sid"])["hangup_cause"] == "hangup_requested"
    finally:
        receiver.close()


def test_an_owner_that_does_not_answer_gets_503_then_once_taken_over_it_is_fenced(cluster: Cluster) -> None:
    cluster.lease = {"LEGATO_LEASE_RENEW_INTERVAL": "0.5", "LEGATO_LEASE_TTL": "600", "LEGATO_ROUTE_TIMEOUT": "1"}
    n1, n2 = cluster.start("n1", "n2")
    account = n1.create_account("--exophone", "08030752400")
    api1, api2 = Api(n1, account), Api(n2, account)
    leg = connected_leg(api1)
    assert leg["node"] == "n1" and n1.process is not None
    os.kill(n1.process.pid, signal.SIGSTOP)  # paused: its lease still runs, but it answers nothing
    refused = api2.action(leg["leg_sid"], action="hangup")
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"]
    assert refused.json()["response"]["error_data"]["code"] == "unavailable"

    let_lease_expire(cluster.database_url, "n1")  # paused past its lease: n2 takes it over
    ended = api2.wait_terminal(leg["leg_sid"], seconds=60)
    assert (ended["terminal_status"], ended["hangup_cause"], ended["node"]) == ("failed", "node_lost", "n2")
    events = written(api2, leg["leg_sid"])
    assert [name for _, _, name in events].count("leg_terminated") == 1
    os.kill(n1.process.pid, signal.SIGCONT)

    # n1 resumes with the leg in memory and the hangup n2 routed to it while paused still queued: its writes are
    # refused (fenced). Asked directly, it answers 503 (fenced) or, once its stale copy is gone, 409 from the store.
    answer = api1.action(leg["leg_sid"], action="hangup")
    assert answer.status_code in (409, 503), answer.text
    assert api1.http.get("/readyz").status_code == 503
    assert api2.leg(leg["leg_sid"]) == ended
    assert written(api2, leg["leg_sid"]) == events


def test_an_accounts_cps_holds_across_the_cluster(cluster: Cluster) -> None:
    nodes = cluster.start("n1", "n2", "n3")
    account = nodes[0].create_account("--exophone", "08030752400", "--cps", "5")
    clients = [Api(node, account) for node in nodes]

    def create(n: int) -> dict[str, Any]:
        created = clients[n % 3].create_leg(FAILS_FAST)
        assert created.status_code == 202, created.text
        return created.json()["response"]["data"]

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        legs = list(pool.map(create, range(18)))
    assert sum(leg["state"] == "enqueued" for leg in legs) > 0
    assert len({leg["node"] for leg in legs}) == 1  # the account's home node runs its throttle
    starts = []
    for leg in legs:
        assert clients[0].wait_terminal(leg["leg_sid"], 60)["state"] == "terminal"
        starts.append(next(nanos(e) for e in clients[0].events(leg["leg_sid"]) if e["event_name"] == "leg_connecting"))
    starts.sort()
    assert all(starts[i + 5] - starts[i] >= SECOND for i in range(len(starts) - 5)), "6 starts in one second"


SECOND = 1_000_000_000
HUMAN = "09163816621"  # answered, stays up
FAILS_FAST = "09163810003"  # 404 after one second of clock time: frees its slot quickly


def nanos(event: dict[str, Any]) -> int:
    stamp = event["payload"]["event_timestamp"]
    return stamp["seconds"] * SECOND + stamp["nanos"]


def test_workers_share_one_port_as_nodes_of_the_cluster(cluster: Cluster) -> None:
    server = cluster.node("w")
    server.args = ["--node", "w", "--workers", "2", "--bus", BUS_URL]
    server.start()
    account = server.create_account("--exophone", "08030752400")
    seen: set[str] = set()
    deadline = time.monotonic() + 90  # the second worker may still be starting
    while len(seen) < 2 and time.monotonic() < deadline:  # each new connection goes to one worker
        try:
            seen.add(httpx.get(server.url + "/healthz", timeout=10).json()["response"]["data"]["node"])
        except httpx.HTTPError:
            pass
    assert seen == {"w-1", "w-2"}
    api = Api(server, account)
    leg = connected_leg(api)
    for _ in range(4):  # whichever worker takes the request, the command reaches the owner
        api.http = httpx.Client(base_url=server.url, auth=account.auth, timeout=10)
        assert api.leg(leg["leg_sid"])["node"] == leg["node"]
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202
    assert api.wait_terminal(leg["leg_sid"])["hangup_cause"] == "hangup_requested"
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(60) == 0  # the parent stops when its workers have


def test_an_inbound_leg_on_another_node_counts_toward_max_concurrent_on_the_home_node(cluster: Cluster) -> None:
    home, other = cluster.start("n1", "n2")
    views = [NodeView(name, {}, 0) for name in ("n1", "n2")]
    sid = next(s for s in (f"ACinbound{i}" for i in range(100)) if home_node(s, views).name == "n1")
    account = home.create_account("--sid", sid, "--exophone", "08030752400", "--max-concurrent", "1")
    at_home, elsewhere = Api(home, account), Api(other, account)
    called = elsewhere.http.post(elsewhere.base + "/sandbox/incoming", json={"from": "09163816622",
                                                                             "to": "08030752400"})
    assert called.status_code == 202, called.text
    inbound = called.json()["response"]["data"]
    assert inbound["node"] == "n2"  # owned by the node the call reached, as an inbound SIP leg is
    wait_for(lambda: at_home.http.get(at_home.base).json()["response"]["data"]["inbound_legs"], lambda n: n == 1,
             seconds=30, what="n2's inbound leg published with its lease and read by the home node")
    created = elsewhere.create_leg(HUMAN)  # sent to the home node, whose throttle counts the inbound leg
    assert created.status_code == 202, created.text
    outbound = created.json()["response"]["data"]
    assert (outbound["node"], outbound["state"]) == ("n1", "enqueued")
    assert at_home.leg(outbound["leg_sid"])["state"] == "enqueued"  # while the inbound leg lives
    assert elsewhere.action(inbound["leg_sid"], action="hangup").status_code == 202
    assert at_home.wait_state(outbound["leg_sid"], "connected", 60)["state"] == "connected"  # its slot came free
    assert at_home.action(outbound["leg_sid"], action="hangup").status_code == 202


def test_a_conference_is_run_by_its_node_whichever_node_is_asked(cluster: Cluster) -> None:
    n1, n2 = cluster.start("n1", "n2")
    account = n1.create_account("--exophone", "08030752400")
    api1, api2 = Api(n1, account), Api(n2, account)
    first, second = connected_leg(api1), connected_leg(api1)
    assert first["node"] == second["node"] == "n1"

    def post(api: Api, path: str, **body: Any) -> httpx.Response:
        return api.http.post(f"{api.base}/conferences{path}", json=body)

    made = post(api2, "", name="room", reference_leg_sid=first["leg_sid"])  # made on n1, beside its legs
    assert made.status_code == 201, made.text
    room = made.json()["response"]["data"]["conference_sid"]
    joined = post(api2, f"/{room}/participants", leg_sid=first["leg_sid"])  # run by n1, through n2
    assert joined.status_code == 201, joined.text
    assert post(api1, f"/{room}/participants", leg_sid=second["leg_sid"]).status_code == 201
    assert post(api2, f"/{room}/participants/{first['leg_sid']}/actions", action="mute").status_code == 202
    stopped = post(api2, f"/{room}/actions", action="stop")
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["response"]["data"]["state"] == "completed"
    unknown = post(api2, "", name="nowhere", reference_leg_sid="0ERnosuchleg00000000000000000000")
    assert unknown.status_code == 404 and unknown.json()["response"]["error_data"]["field"] == "reference_leg_sid"
