"""Benchmark: legs through the HTTP API, next to a bare uvicorn JSON endpoint measured in the same run.

    python bench/legs_api.py [--legs 3000] [--live 10000] [--concurrency 32]

Reports: create latency p50/p99 and creates/s; legs created-to-terminal per second (sandbox busy
number at time scale 100); live legs held in one server process and RSS per live leg. Bounded:
every phase has a fixed count and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from leg_cpu import tree_cpu_seconds  # noqa: E402
from tests.legato_server import LegatoServer, free_port  # noqa: E402

RECEIVER = """
import asyncio, sys, uvloop

class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while True:
            head, sep, rest = self.buffer.partition(b"\\r\\n\\r\\n")
            if not sep:
                return
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.transport.write(b"HTTP/1.1 204 No Content\\r\\ncontent-length: 0\\r\\n\\r\\n")

async def main():
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()

uvloop.run(main())
"""
"""A minimal keep-alive webhook receiver (uvloop, answers 204) so event delivery is part of the load."""

BARE_APP = """
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/v2/accounts/{sid}/legs", status_code=202)
async def create(sid: str, request: Request):
    body = await request.json()
    return {"request_id": "x", "method": "POST", "http_code": 202, "response": {"error_data": None, "data": body}}
@app.get("/healthz")
async def health():
    return {"ok": True}
"""


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


ENDPOINT = "http://127.0.0.1:9/e"  # replaced in main() by the receiver's address


async def hammer(url: str, auth: tuple[str, str] | None, count: int, concurrency: int, number: str,
                 extra: dict | None = None) -> tuple[float, list[float], list[str]]:
    """POST `count` legs with `concurrency` workers; returns (seconds, latencies ms, leg_sids)."""
    latencies: list[float] = []
    sids: list[str] = []
    body = {"contact_uri": number, "exophone": "08030752400", "leg_event_endpoint": ENDPOINT, **(extra or {})}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(auth=auth, limits=limits, timeout=30) as client:
        queue = iter(range(count))

        async def worker() -> None:
            for _ in queue:
                t0 = time.perf_counter()
                response = await client.post(url, json=body)
                latencies.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 202, response.text
                sids.append(response.json()["response"]["data"].get("leg_sid", ""))

        t0 = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), timeout=600)
        return time.perf_counter() - t0, latencies, sids


def wrk(url: str, auth: tuple[str, str] | None, seconds: int, concurrency: int, number: str, work: Path,
        pid: int) -> dict:
    """Drive `url` with wrk (C load generator, Debian package `wrk`) for `seconds`; None when wrk is absent.
    `cpu_ms_per_request`: the CPU the server `pid` (and its children) used during the run, per request (robust
    to other load on the machine, which the rate is not)."""
    if not shutil.which("wrk"):
        return {}
    headers = ['wrk.headers["Content-Type"] = "application/json"']
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers.append(f'wrk.headers["Authorization"] = "Basic {token}"')
    body = json.dumps({"contact_uri": number, "exophone": "08030752400", "leg_event_endpoint": ENDPOINT})
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + "\n" + "\n".join(headers) + "\n")
    cpu0 = tree_cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = tree_cpu_seconds(pid) - cpu0
    result: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["requests_per_s"] = round(float(parts[1]))
        elif line.strip().startswith("Non-2xx or 3xx responses:"):  # counted in Requests/sec too
            result["non_2xx"] = int(parts[-1])
        elif parts and parts[0] in ("50%", "99%"):
            value = parts[1]
            ms = float(value[:-2]) if value.endswith("ms") else float(value[:-2]) / 1000 if value.endswith("us") \
                else float(value[:-1]) * 1000
            result["p" + parts[0][:-1] + "_ms"] = ms
        elif "requests in" in line:
            result["cpu_ms_per_request"] = round(cpu * 1000 / max(1, int(parts[0])), 3)
    return result


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def live_legs(server: LegatoServer, auth: tuple[str, str], sid: str) -> int:
    data = httpx.get(f"{server.url}/v2/accounts/{sid}", auth=auth).json()["response"]["data"]
    return data["live_legs"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--legs", type=int, default=3000)
    parser.add_argument("--live", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    global ENDPOINT
    report: dict[str, object] = {"cpu_count": os.cpu_count()}
    receiver_port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(receiver_port)])
    ENDPOINT = f"http://127.0.0.1:{receiver_port}/events"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # -- bare uvicorn endpoint, same client --
        (work / "bare.py").write_text(BARE_APP)
        port = free_port()
        bare = subprocess.Popen([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(port), "--log-level",
                                 "warning", "--no-access-log"], cwd=work)
        try:
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            rss0 = rss_kb(bare.pid)
            secs, lat, _ = asyncio.run(hammer(f"http://127.0.0.1:{port}/v2/accounts/x/legs", None, args.legs,
                                              args.concurrency, "09163810001"))
            report["bare_wrk"] = wrk(f"http://127.0.0.1:{port}/v2/accounts/x/legs", None, 10, args.concurrency,
                                     "09163810001", work, bare.pid)
            report["bare"] = {"requests_per_s": round(args.legs / secs), "p50_ms": round(pct(lat, 50), 2),
                              "p99_ms": round(pct(lat, 99), 2), "rss_kb": rss_kb(bare.pid), "rss0_kb": rss0}
        finally:
            bare.terminate()
            bare.wait()

        # -- Legato: created-to-terminal (busy number), then live legs --
        server = LegatoServer(workdir=work, database_url=f"sqlite+aiosqlite:///{work / 'bench.db'}",
                              time_scale=100.0).start()
        try:
            account = server.create_account("--exophone", "08030752400")
            url = f"{server.url}/v2/accounts/{account.account_sid}/legs"
            t0 = time.perf_counter()
            secs, lat, _ = asyncio.run(hammer(url, account.auth, args.legs, args.concurrency, "09163810001"))
            deadline = time.monotonic() + 120
            while live_legs(server, account.auth, account.account_sid) and time.monotonic() < deadline:
                time.sleep(0.05)
            to_terminal = time.perf_counter() - t0
            report["legato_create"] = {"creates_per_s": round(args.legs / secs), "p50_ms": round(pct(lat, 50), 2),
                                       "p99_ms": round(pct(lat, 99), 2),
                                       "legs_to_terminal_per_s": round(args.legs / to_terminal)}
            assert server.process is not None
            report["legato_create_wrk"] = wrk(url, account.auth, 10, args.concurrency, "09163810001", work,
                                              server.process.pid)
            deadline = time.monotonic() + 120
            while live_legs(server, account.auth, account.account_sid) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert server.process is not None
            rss_before = rss_kb(server.process.pid)
            secs, lat, _ = asyncio.run(hammer(url, account.auth, args.live, args.concurrency, "09163816621",
                                              {"time_limit": 86400, "timeout": 3600}))
            time.sleep(2)
            held = live_legs(server, account.auth, account.account_sid)
            rss_after = rss_kb(server.process.pid)
            report["legato_live"] = {"live_legs": held, "rss_before_kb": rss_before, "rss_after_kb": rss_after,
                                     "rss_per_live_leg_bytes": round((rss_after - rss_before) * 1024 / max(held, 1))}
        finally:
            server.stop()
            receiver.terminate()
    bare_wrk, legato_wrk = report.get("bare_wrk") or {}, report.get("legato_create_wrk") or {}
    if bare_wrk and legato_wrk:  # Legato's POST /legs against the bare endpoint, by rate and by CPU per request
        report["ratio"] = {"rate": round(legato_wrk["requests_per_s"] / bare_wrk["requests_per_s"], 3),
                           "cpu": round(bare_wrk["cpu_ms_per_request"] / legato_wrk["cpu_ms_per_request"], 3)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
