"""Benchmark: a cluster of Legato nodes on this machine (PostgreSQL + NATS, sandbox network).

    python bench/cluster.py --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test [--legs 1500]

Reports, for 1, 2 and 3 nodes: legs created per second through all nodes (round robin, each leg a
sandbox number that fails after 1 clock second at time scale 100, so it ends at once) and CPU ms per leg of
the nodes and of the load generator; p50/p99 of a command (mute/unmute) sent to a node that owns the leg
and to one that routes it over NATS; the time from SIGKILL of a node holding live legs to the last of them
being terminal (default lease: renewed every 2 s, expiring after 10 s). Bounded: fixed counts, deadlines.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LEGATO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
from tests.cluster.nodes import Cluster  # noqa: E402
from tests.legato_server import Account, free_port  # noqa: E402

FAILS_FAST = "09163810003"
HUMAN = "09163816621"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def database_counters(url: str) -> tuple[int, int]:
    """(transactions committed, rows inserted + updated) of the bench's database so far."""
    import asyncpg

    async def read() -> tuple[int, int]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute("SELECT pg_stat_force_next_flush()")
            row = await conn.fetchrow(
                "SELECT xact_commit, tup_inserted + tup_updated AS rows FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
            return int(row["xact_commit"]), int(row["rows"])
        finally:
            await conn.close()

    time.sleep(1.5)  # backends report their counters about once a second
    return asyncio.run(read())


ENDPOINT = {"url": "http://127.0.0.1:9/events"}  # the receiver started by main()


def start_receiver() -> subprocess.Popen[bytes]:
    """bench/legs_api.py's keep-alive webhook receiver (answers 204), so event delivery is part of the load."""
    spec = importlib.util.spec_from_file_location("legs_api", ROOT / "bench" / "legs_api.py")
    assert spec is not None and spec.loader is not None
    legs_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(legs_api)
    port = free_port()
    ENDPOINT["url"] = f"http://127.0.0.1:{port}/events"
    return subprocess.Popen([sys.executable, "-c", legs_api.RECEIVER, str(port)])


def body(number: str) -> dict[str, Any]:
    return {"contact_uri": number, "exophone": "08030752400", "leg_event_endpoint": ENDPOINT["url"]}


async def create_legs(
    urls: list[str], account: Account, legs: int, concurrency: int, number: str, **fields: Any
) -> list[str]:
    clients = [httpx.AsyncClient(base_url=url, auth=account.auth, timeout=30) for url in urls]
    path = f"/v2/accounts/{account.account_sid}/legs"
    made: list[str] = []
    counter = iter(range(legs))

    async def worker() -> None:
        for n in counter:
            response = await clients[n % len(clients)].post(path, json=body(number) | fields)
            assert response.status_code == 202, response.text
            made.append(response.json()["response"]["data"]["leg_sid"])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for client in clients:
        await client.aclose()
    return made


def throughput(nodes: int, legs: int, concurrency: int, workdir: Path) -> dict[str, float]:
    cluster = Cluster(workdir / f"tp{nodes}", lease={}, time_scale=100.0)
    cluster.workdir.mkdir(parents=True, exist_ok=True)
    try:
        servers = cluster.start(*[f"n{i + 1}" for i in range(nodes)])
        account = servers[0].create_account("--exophone", "08030752400")
        urls = [s.url for s in servers]
        asyncio.run(create_legs(urls, account, 50, concurrency, FAILS_FAST))  # warm up
        pids = [s.process.pid for s in servers if s.process]
        commits, rows = database_counters(cluster.database_url)
        node_cpu, mine, start = sum(map(cpu_seconds, pids)), own_cpu(), time.monotonic()
        asyncio.run(create_legs(urls, account, legs, concurrency, FAILS_FAST))
        wall = time.monotonic() - start
        node_cpu, mine = sum(map(cpu_seconds, pids)) - node_cpu, own_cpu() - mine
        time.sleep(3)  # the legs end (1 clock second) and their events are delivered (refused: port 9)
        commits_after, rows_after = database_counters(cluster.database_url)
        return {
            "legs_per_s": legs / wall,
            "node_cpu_ms_per_leg": node_cpu * 1000 / legs,
            "generator_cpu_ms_per_leg": mine * 1000 / legs,
            "db_commits_per_leg": (commits_after - commits) / legs,
            "db_rows_per_leg": (rows_after - rows) / legs,
        }
    finally:
        cluster.stop()


async def command_latency(owner: str, other: str, account: Account, leg_sid: str, count: int) -> dict[str, float]:
    """Commands to the owner and through another node, interleaved so both see the same load."""
    path = f"/v2/accounts/{account.account_sid}/legs/{leg_sid}/actions"
    times: dict[str, list[float]] = {"local": [], "routed": []}
    async with (
        httpx.AsyncClient(base_url=owner, auth=account.auth, timeout=30) as local,
        httpx.AsyncClient(base_url=other, auth=account.auth, timeout=30) as routed,
    ):
        for n in range(count):
            for name, client in (("local", local), ("routed", routed)):
                began = time.perf_counter()
                response = await client.post(path, json={"action": "mute" if n % 2 == 0 else "unmute"})
                times[name].append(time.perf_counter() - began)
                assert response.status_code == 202, response.text
    out = {}
    for name, values in times.items():
        values.sort()
        out[f"{name}_p50_ms"] = statistics.median(values) * 1000
        out[f"{name}_p99_ms"] = values[int(len(values) * 0.99) - 1] * 1000
    return out


def routing_and_death(workdir: Path, commands: int, live: int) -> dict[str, float]:
    cluster = Cluster(workdir / "death", lease={}, time_scale=1.0)
    cluster.workdir.mkdir(parents=True, exist_ok=True)
    try:
        n1, n2 = cluster.start("n1", "n2")
        account = n1.create_account("--exophone", "08030752400")
        first = asyncio.run(create_legs([n1.url], account, 1, 1, HUMAN))
        sids = first + asyncio.run(create_legs([n1.url], account, live - 1, 8, HUMAN, reference_leg_sid=first[0]))
        with httpx.Client(base_url=n2.url, auth=account.auth, timeout=30) as client:

            def connected(sid: str) -> dict[str, Any]:
                return client.get(f"/v2/accounts/{account.account_sid}/legs/{sid}").json()["response"]["data"]

            deadline = time.monotonic() + 120
            while any(connected(s)["state"] != "connected" for s in sids[-3:]) and time.monotonic() < deadline:
                time.sleep(0.2)
            on_n1 = [s for s in sids if connected(s)["node"] == "n1"]
            result = asyncio.run(command_latency(n1.url, n2.url, account, on_n1[0], commands))
            assert n1.process is not None
            killed = time.monotonic()
            n1.process.send_signal(signal.SIGKILL)
            n1.process.wait()
            pending = set(on_n1)
            while pending and time.monotonic() < killed + 120:
                pending = {s for s in pending if connected(s)["state"] != "terminal"}
                time.sleep(0.05)
            result["death_to_last_terminal_s"] = time.monotonic() - killed
            result["legs_on_dead_node"] = len(on_n1)
            result["left_live"] = len(pending)
        return result
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=os.environ["LEGATO_TEST_POSTGRES_URL"])
    parser.add_argument("--legs", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--commands", type=int, default=400)
    parser.add_argument("--live", type=int, default=100)
    parser.add_argument("--nodes", type=int, nargs="*", default=[1, 2, 3], help="cluster sizes for legs/s")
    args = parser.parse_args()
    os.environ["LEGATO_TEST_POSTGRES_URL"] = args.postgres
    receiver = start_receiver()
    try:
        with tempfile.TemporaryDirectory(prefix="legato-cluster-bench-") as tmp:
            workdir = Path(tmp)
            for nodes in args.nodes:
                figures = throughput(nodes, args.legs, args.concurrency, workdir)
                print(f"nodes={nodes} " + " ".join(f"{k}={v:.1f}" for k, v in figures.items()), flush=True)
            if args.live > 1:
                figures = routing_and_death(workdir, args.commands, args.live)
                print(" ".join(f"{k}={v:.2f}" for k, v in figures.items()), flush=True)
    finally:
        receiver.kill()


if __name__ == "__main__":
    main()
