"""Benchmark: real SIP calls placed through Legato's HTTP API, next to SIPp's own rate, same run.

    python bench/sip_api.py [--calls 300] [--concurrent 1000] [--memory-only] [--refused-events]

1. SIPp as an answering UAS (built-in `uas` scenario) on 127.0.0.1.
2. Baseline: SIPp's built-in `uac` against that UAS, N calls INVITE to BYE as fast as it goes.
3. Legato (`--network sip`, trunk = the UAS): N legs created through the API with time_limit 1 s, so each
   call is INVITE -> 200 -> ACK -> (1 s) -> BYE; calls/s = N / (first create .. last terminal) - 1 s.
4. Concurrent, on a fresh server process (the rate phases' heap would hide its growth) after 50 warm-up calls:
   M answered legs held at once; RSS of the Legato process per live SIP leg. Their events go to a
   keep-alive webhook receiver (bench/leg_cpu.py's, answers 204), as a user's would; with `--refused-events`
   to a port that refuses connections (as phases 2-3 do), so every event stays queued for retry.
   `--memory-only` skips phases 2-3.
Every phase is bounded in count and time. The wrk phase also reports each process's CPU per call (the API
process, the media engine, any other child), and `--profile PREFIX` records each of them with py-spy
(raw samples, PREFIX.<pid>.txt) during it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.leg_cpu import RECEIVER  # noqa: E402
from tests.legato_server import LegatoServer  # noqa: E402
from tests.network.sip.peers import Peer, free_port, start_sipp  # noqa: E402

CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
default_trunk = "uas"

[[sip.trunks]]
name = "uas"
proxy = "sip:127.0.0.1:{uas_port}"
number_format = "e164"
"""


def family(pid: int) -> list[int]:
    """`pid` and its live descendants (the server, its media engine and any other child)."""
    found = [pid]
    for member in found:  # grows while it is walked
        with contextlib.suppress(OSError):
            found += [int(child) for child in Path(f"/proc/{member}/task/{member}/children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (its own threads, not its children)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_name(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return "media" if b"legato.media.server" in argv else "api" if b"serve" in argv else argv[0].decode()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


WARMUP = 50  # legs through a fresh server before phase 4 measures
REFUSED = "http://127.0.0.1:9/e"  # nothing listens: every event is retried (phases 2-3, `--refused-events`)


async def create_legs(server: LegatoServer, auth: tuple[str, str], sid: str, count: int, time_limit: int,
                      endpoint: str = REFUSED) -> None:
    body = {"contact_uri": "+919163816621", "exophone": "+918030752400",
            "leg_event_endpoint": endpoint, "time_limit": time_limit}
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=server.url, auth=auth, limits=limits, timeout=30) as client:
        todo = iter(range(count))

        async def worker() -> None:
            for _ in todo:
                response = await client.post(f"/v2/accounts/{sid}/legs", json=body)
                assert response.status_code == 202, response.text

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(16))), timeout=300)


def wrk_legs(server: LegatoServer, auth: tuple[str, str], sid: str, seconds: int, work: Path) -> int:
    """Create legs with wrk (Debian `wrk`) for `seconds`; returns how many were accepted (0 if wrk is absent)."""
    import base64
    import shutil

    if not shutil.which("wrk"):
        return 0
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    body = json.dumps({"contact_uri": "+919163816621", "exophone": "+918030752400",
                       "leg_event_endpoint": REFUSED, "time_limit": 1})
    script = work / "post.lua"
    script.write_text('wrk.method = "POST"\nwrk.body = ' + json.dumps(body) + '\nwrk.headers["Content-Type"] = '
                      '"application/json"\nwrk.headers["Authorization"] = "Basic ' + token + '"\n')
    out = subprocess.run(["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(script),
                          f"{server.url}/v2/accounts/{sid}/legs"], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    for line in out.splitlines():
        if "requests in" in line:
            return int(line.split()[0])
    return 0


def account_state(server: LegatoServer, auth: tuple[str, str], sid: str) -> dict[str, int]:
    counts = {}
    for state in ("connecting", "ringing", "connected"):
        legs = httpx.get(f"{server.url}/v2/accounts/{sid}/legs", params={"state": state, "limit": 500},
                         auth=auth).json()["response"]["data"]["legs"]
        counts[state] = len(legs)
    counts["live"] = httpx.get(f"{server.url}/v2/accounts/{sid}", auth=auth).json()["response"]["data"]["live_legs"]
    return counts


def rate_phases(server: LegatoServer, auth: tuple[str, str], sid: str, args: argparse.Namespace,
                report: dict[str, object], work: Path) -> None:
    """Phase 3: `--calls` legs through httpx, then wrk for 5 s, each call INVITE -> 200 -> ACK -> (1 s) -> BYE."""
    t0 = time.perf_counter()
    asyncio.run(create_legs(server, auth, sid, args.calls, time_limit=1))
    deadline = time.monotonic() + 120
    while account_state(server, auth, sid)["live"] and time.monotonic() < deadline:
        time.sleep(0.1)
    secs = time.perf_counter() - t0 - 1.0
    baseline = report["sipp_uac"]["calls_per_s"]  # type: ignore[index]
    report["legato_api"] = {"calls": args.calls, "calls_per_s": round(args.calls / secs),
                            "ratio_to_sipp": round(args.calls / secs / baseline, 2)}
    assert server.process is not None
    pids = family(server.process.pid)
    profilers = [subprocess.Popen(["py-spy", "record", "-p", str(pid), "-f", "raw", "-r", "200",
                                   "-o", f"{args.profile}.{process_name(pid)}.{pid}.txt"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for pid in pids] if args.profile else []
    time.sleep(1.0 if profilers else 0)
    cpu0 = {pid: cpu_seconds(pid) for pid in pids}
    t0 = time.perf_counter()
    created = wrk_legs(server, auth, sid, 5, work)
    if created:
        deadline = time.monotonic() + 120
        while account_state(server, auth, sid)["live"] and time.monotonic() < deadline:
            time.sleep(0.1)
        secs = time.perf_counter() - t0 - 1.0
        cpu = {f"{process_name(pid)}_{pid}": round((cpu_seconds(pid) - cpu0[pid]) * 1000 / created, 2)
               for pid in pids}
        report["legato_api_wrk"] = {"calls": created, "calls_per_s": round(created / secs),
                                    "ratio_to_sipp": round(created / secs / baseline, 2),
                                    "cpu_ms_per_call": cpu}
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(60)


def sipp_rate(work: Path, uas: Peer, args: argparse.Namespace, report: dict[str, object]) -> None:
    """Phase 2: SIPp's own `uac` against the same UAS, `--calls` calls as fast as it goes."""
    uac = start_sipp(work / "uac", "uac", calls=args.calls, timeout=120,
                     extra=["-r", "2000", "-l", "200", "-s", "919163816621"], remote=f"127.0.0.1:{uas.port}")
    t0 = time.perf_counter()
    code = uac.wait(180)
    sipp_secs = time.perf_counter() - t0
    report["sipp_uac"] = {"calls": args.calls, "exit": code, "calls_per_s": round(args.calls / sipp_secs)}


def hold_legs(server: LegatoServer, auth: tuple[str, str], sid: str, args: argparse.Namespace,
              endpoint: str) -> dict[str, object]:
    """Phase 4 on a server of its own: a short warm-up, then `--concurrent` answered legs held; RSS per live leg."""
    assert server.process is not None
    asyncio.run(create_legs(server, auth, sid, WARMUP, time_limit=1, endpoint=endpoint))  # lazy imports, caches
    deadline = time.monotonic() + 60
    while account_state(server, auth, sid)["live"] and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the warm-up's events delivered (or queued for retry)
    before = rss_kb(server.process.pid)
    t0 = time.perf_counter()
    asyncio.run(create_legs(server, auth, sid, args.concurrent, time_limit=3600, endpoint=endpoint))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = account_state(server, auth, sid)
        if state["connecting"] == 0 and state["ringing"] == 0:
            break
        time.sleep(0.5)
    time.sleep(1)
    after = rss_kb(server.process.pid)
    state = account_state(server, auth, sid)
    return {"requested": args.concurrent, "live": state["live"],
            "events": "refused, retried" if args.refused_events else "delivered",
            "seconds_to_all_answered": round(time.perf_counter() - t0, 1),
            "rss_before_kb": before, "rss_after_kb": after,
            "rss_per_live_leg_kb": round((after - before) / max(state["live"], 1), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrent", type=int, default=1000)
    parser.add_argument("--profile", help="py-spy raw output prefix for the wrk phase (PREFIX.<pid>.txt)")
    parser.add_argument("--memory-only", action="store_true", help="skip the rate phases (2-3)")
    parser.add_argument("--refused-events", action="store_true",
                        help="phase 4's events to a refused port (all retried) instead of a webhook receiver")
    args = parser.parse_args()
    report: dict[str, object] = {"load_average_before": round(os.getloadavg()[0], 2)}
    receiver_port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(receiver_port)], stdout=subprocess.PIPE)
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == b"ready"
    endpoint = REFUSED if args.refused_events else f"http://127.0.0.1:{receiver_port}/events"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        uas = start_sipp(work / "uas", "uas", calls=100_000, timeout=600)
        try:
            rtp = 30000  # a fixed range for the bench: 2 ports a leg
            config = work / "legato.toml"
            config.write_text(CONFIG.format(sip_port=free_port(), rtp=rtp, rtp_max=rtp + 2 * args.concurrent + 198,
                                            uas_port=uas.port))
            phases = [("rate", "b.db")] if not args.memory_only else []
            for phase, database in [*phases, ("memory", "m.db")]:  # each on a fresh server process
                server = LegatoServer(workdir=work, database_url=f"sqlite+aiosqlite:///{work / database}",
                                      time_scale=1.0, env={"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config)})
                account = server.create_account("--exophone", "+918030752400")
                if phase == "rate":
                    sipp_rate(work, uas, args, report)
                server.start()
                try:
                    if phase == "rate":
                        rate_phases(server, account.auth, account.account_sid, args, report, work)
                    else:
                        report["legato_concurrent"] = hold_legs(server, account.auth, account.account_sid, args,
                                                                endpoint)
                finally:
                    server.stop()
        finally:
            uas.stop()
            receiver.terminate()
            receiver.wait(5)
    report["load_average_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
