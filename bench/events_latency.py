"""Event delivery latency and throughput: state change -> receipt at a local receiver, HTTP and gRPC.

Starts a real `legato serve` (sandbox network, time scale 1, SQLite) and `legato events listen --json`
(which verifies every signature), then creates legs to 09163810007 (connecting, ringing, answered,
far-end hangup: 4 events per leg) at a steady rate through the HTTP API. Latency is the receiver's
arrival time minus the event's `event_timestamp` (taken at the state change, before the commit).

    PYTHONPATH=src python bench/events_latency.py                      # 500 ev/s, then a search for the max
    PYTHONPATH=src python bench/events_latency.py --rates 500 --seconds 20 --transports http

A rate is "sustained" when every event arrives, p99 stays under 250 ms and the receiver finishes no
later than 2 s after the last leg ended.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

EVENTS_PER_LEG = 4
SRC = str(Path(__file__).resolve().parent.parent / "src")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """A Legato server and a listener, each in its own process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, self.http_port, self.grpc_port = free_port(), free_port(), free_port()
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]),
                    "LEGATO_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                    "LEGATO_SECRET_KEY_FILE": str(workdir / "legato.key"), "LEGATO_TIME_SCALE": "1"}
        self.server: subprocess.Popen[bytes] | None = None
        self.listener: subprocess.Popen[str] | None = None
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.refused: list[dict[str, Any]] = []

    def legato(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "legato", *args], env=self.env, cwd=self.workdir, check=True,
                              capture_output=True, text=True).stdout

    def start(self) -> dict[str, Any]:
        account = json.loads(self.legato("accounts", "create", "--json", "--exophone", "08030752400"))
        log = open(self.workdir / "server.log", "ab")
        self.server = subprocess.Popen([sys.executable, "-m", "legato", "serve", "--port", str(self.port)],
                                       env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        self.listener = subprocess.Popen(
            [sys.executable, "-m", "legato", "events", "listen", "--json", "--secret", account["webhook_secret"],
             "--http", f"127.0.0.1:{self.http_port}", "--grpc", f"127.0.0.1:{self.grpc_port}"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.listener.stderr is not None
        assert "listening" in self.listener.stderr.readline()
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return account
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def _read(self) -> None:
        assert self.listener is not None and self.listener.stdout is not None
        for line in self.listener.stdout:
            arrival = json.loads(line)
            if arrival["event"] is None:
                self.refused.append(arrival)
            else:
                self.arrivals.append((arrival["received_at"], arrival["event"]))

    def stop(self) -> None:
        for process in (self.server, self.listener):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)


async def drive(stack: Stack, account: dict[str, Any], endpoint: str, events_per_second: float,
                seconds: float) -> tuple[set[str], float, int]:
    """Create legs at the rate that yields `events_per_second`; returns (leg_sids, end time, failures)."""
    legs_per_second = events_per_second / EVENTS_PER_LEG
    total = int(legs_per_second * seconds)
    leg_sids: set[str] = set()
    failures = 0
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    slots = asyncio.Semaphore(32)  # queue here, not in httpcore's pool (its queue costs O(waiting x connections))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{stack.port}", limits=limits, timeout=30,
                                 auth=(account["api_key"], account["api_token"])) as client:
        path = f"/v2/accounts/{account['account_sid']}/legs"
        body = {"contact_uri": "09163810007", "exophone": "08030752400", "leg_event_endpoint": endpoint}

        async def create() -> None:
            nonlocal failures
            async with slots:
                response = await client.post(path, json=body)
            if response.status_code == 202:
                leg_sids.add(response.json()["response"]["data"]["leg_sid"])
            else:
                failures += 1

        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / legs_per_second - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(create()))
        await asyncio.gather(*tasks)
    return leg_sids, time.time(), failures


def measure(stack: Stack, account: dict[str, Any], transport: str, rate: float, seconds: float) -> dict[str, Any]:
    endpoint = f"http://127.0.0.1:{stack.http_port}/events" if transport == "http" \
        else f"grpc://127.0.0.1:{stack.grpc_port}"
    stack.arrivals.clear()
    stack.refused.clear()
    leg_sids, created_until, failures = asyncio.run(drive(stack, account, endpoint, rate, seconds))
    expected = len(leg_sids) * EVENTS_PER_LEG
    last_state_change = created_until + 8.5  # ring 1 s + answer 2 s + far hangup 5 s after the last create
    deadline = last_state_change + 20
    while time.time() < deadline:
        got = {(e["event_data"]["data"]["leg_sid"], e["sequence"]) for _, e in stack.arrivals
               if e["event_data"]["data"]["leg_sid"] in leg_sids}
        if len(got) >= expected:
            break
        time.sleep(0.2)
    arrivals = [(t, e) for t, e in stack.arrivals if e["event_data"]["data"]["leg_sid"] in leg_sids]
    latencies = sorted(
        (t - (e["event_timestamp"]["seconds"] + e["event_timestamp"]["nanos"] / 1e9)) * 1000 for t, e in arrivals)
    unique = {(e["event_data"]["data"]["leg_sid"], e["sequence"]) for _, e in arrivals}
    finished = max((t for t, _ in arrivals), default=0.0)
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("inf")
    result = {
        "transport": transport, "target_events_per_s": rate, "seconds": seconds, "legs": len(leg_sids),
        "create_failures": failures, "events_expected": expected, "events_received": len(unique),
        "duplicates": len(arrivals) - len(unique), "refused": len(stack.refused),
        "achieved_events_per_s": round(len(unique) / (seconds + 8), 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p90_ms": round(latencies[int(0.9 * (len(latencies) - 1))], 1) if latencies else None,
        "p99_ms": round(p99, 1), "max_ms": round(latencies[-1], 1) if latencies else None,
        "drained_after_last_change_s": round(finished - last_state_change, 2),
    }
    result["sustained"] = (len(unique) == expected and failures == 0 and p99 < 250
                           and finished - last_state_change < 2.0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="500", help="comma-separated events/s for the latency runs")
    parser.add_argument("--seconds", type=float, default=20, help="how long legs are created at each rate")
    parser.add_argument("--search", default="750,1000,1250,1500,2000", help="rates tried to find the maximum")
    parser.add_argument("--search-seconds", type=float, default=10)
    parser.add_argument("--transports", default="http,grpc")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.platform()} python {platform.python_version()} cpus={os.cpu_count()}")
    for transport in args.transports.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            stack = Stack(Path(tmp))
            try:
                account = stack.start()
                for rate in (float(r) for r in args.rates.split(",") if r):
                    print(json.dumps(measure(stack, account, transport, rate, args.seconds)), flush=True)
                best = None
                for rate in (float(r) for r in args.search.split(",") if r):
                    result = measure(stack, account, transport, rate, args.search_seconds)
                    print(json.dumps(result), flush=True)
                    if not result["sustained"]:
                        break
                    best = rate
                print(json.dumps({"transport": transport, "max_sustained_events_per_s": best}), flush=True)
            finally:
                stack.stop()


if __name__ == "__main__":
    main()
