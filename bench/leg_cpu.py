"""Server CPU per leg lifecycle: create through the API, connecting -> terminal, two signed webhooks delivered.

    PYTHONPATH=src python bench/leg_cpu.py [--legs 1500] [--rate 150] [--warmup 150] [--profile out.txt]

Starts `legato serve` (sandbox, time scale 100, SQLite in a temporary directory) and a keep-alive webhook
receiver (uvloop, answers 204, checks every request carries the three Standard Webhooks headers); legs to
the busy number 09163810001 (events: leg_connecting, then the terminal leg_terminated) are created at a
fixed offered load (`--rate` legs/s, open loop, at most 64 requests in flight) from this process. After a
warm-up phase (the first legs pay for lazy imports and caches), the server's CPU (user + system of the
server process and all its descendants, from /proc) is read before the measured legs and again once the
receiver holds every one of their webhooks and the attempt records had time to commit; divided by the
legs, that is `cpu_ms_per_leg`. CPU counts are robust to other load on the machine; wall-clock figures
(latency, achieved rate) are not. When LEGATO_TEST_POSTGRES_URL is set, the same run is repeated on a
fresh PostgreSQL database (the PostgreSQL server's own CPU is not Legato's and is not counted).

Bounded: a fixed count of legs, and every wait has a deadline. `--profile FILE` records the server with
py-spy (`-f raw --idle` off, native frames) during the measured phase. `--threads` adds, per leg, user and
system CPU, voluntary and involuntary context switches, time run and time waiting for a core (schedstat), for
the process and each of its threads; `--attach CMD` runs a tracer over the measured phase, e.g.
`--attach 'perf trace -s -p {pid} -o trace.txt'` (system calls by kind and thread) or `--attach 'perf record
-F 999 --per-thread -p {pid} -o perf.data'` (CPU samples only, unlike py-spy's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.legato_server import (  # noqa: E402
    POSTGRES_URL,
    LegatoServer,
    drop_postgres_databases,
    free_port,
    new_postgres_database,
)

NUMBER = "09163810001"  # sandbox busy: leg_connecting, then leg_terminated
EVENTS_PER_LEG = 2
TICKS = os.sysconf("SC_CLK_TCK")

RECEIVER = """
import asyncio, sys, uvloop

count = 0
bad = 0
NEEDED = (b"webhook-id:", b"webhook-timestamp:", b"webhook-signature:")

class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        global count, bad
        self.buffer += data
        while True:
            head, sep, rest = self.buffer.partition(b"\\r\\n\\r\\n")
            if not sep:
                return
            length = 0
            lower = head.lower()
            for line in lower.split(b"\\r\\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            if head.startswith(b"GET "):
                body = b"%d %d" % (count, bad)
                self.transport.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: %d\\r\\n\\r\\n%s" % (len(body), body))
                continue
            count += 1
            if not all(name in lower for name in NEEDED):
                bad += 1
            self.transport.write(b"HTTP/1.1 204 No Content\\r\\ncontent-length: 0\\r\\n\\r\\n")

async def main():
    server = await asyncio.get_running_loop().create_server(Receiver, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

uvloop.run(main())
"""
"""A minimal keep-alive webhook receiver; `GET /` answers "<webhooks received> <without signature headers>"."""


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and every live descendant, plus what their reaped children used."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
        parents[int(entry)] = int(fields[1])
        stats[int(entry)] = fields
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in family:
                family.add(child)
                frontier.append(child)
    ticks = 0
    for member in family:
        fields = stats.get(member)
        if fields:  # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the comm)
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / TICKS


def thread_counters(pid: int) -> dict[int, dict[str, float]]:
    """Per thread of `pid`: user and system CPU (s), voluntary and involuntary context switches, time run and
    time spent runnable but waiting for a core (s, from schedstat), and the thread's name."""
    threads: dict[int, dict[str, float]] = {}
    for entry in os.listdir(f"/proc/{pid}/task"):
        base = f"/proc/{pid}/task/{entry}"
        try:
            stat = Path(f"{base}/stat").read_text()
            status = Path(f"{base}/status").read_text().splitlines()
            run_ns, wait_ns, _ = Path(f"{base}/schedstat").read_text().split()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        switches = {k: int(v) for k, _, v in (line.partition(":\t") for line in status) if k.endswith("ctxt_switches")}
        threads[int(entry)] = {"user": int(fields[11]) / TICKS, "system": int(fields[12]) / TICKS,
                               "voluntary": switches["voluntary_ctxt_switches"],
                               "involuntary": switches["nonvoluntary_ctxt_switches"],
                               "run": int(run_ns) / 1e9, "runqueue": int(wait_ns) / 1e9,
                               "name": stat[stat.index("(") + 1 : stat.rindex(")")]}  # type: ignore[dict-item]
    return threads


def counters_per_leg(before: dict[int, dict[str, float]], after: dict[int, dict[str, float]],
                     legs: int) -> dict[str, object]:
    """What the measured legs cost per leg: user and system CPU (ms), context switches, ms run and ms waiting
    for a core, for the process and for each thread that ran (threads named by comm and tid)."""
    keys = ("user", "system", "voluntary", "involuntary", "run", "runqueue")
    scale = {"user": 1000, "system": 1000, "run": 1000, "runqueue": 1000, "voluntary": 1, "involuntary": 1}
    total = dict.fromkeys(keys, 0.0)
    threads: dict[str, dict[str, float]] = {}
    for tid, end in after.items():
        start = before.get(tid, dict.fromkeys(keys, 0.0))
        delta = {k: (end[k] - start[k]) * scale[k] / legs for k in keys}
        if delta["run"] < 0.001:
            continue
        for k in keys:
            total[k] += delta[k]
        threads[f"{end['name']}/{tid}"] = {k: round(v, 3) for k, v in delta.items()}
    return {"process": {k: round(v, 3) for k, v in total.items()}, "threads": threads}


def receiver_count(client: httpx.Client, url: str) -> tuple[int, int]:
    received, bad = client.get(url).text.split()
    return int(received), int(bad)


async def offer(url: str, auth: tuple[str, str], endpoint: str, legs: int, rate: float) -> dict[str, float]:
    """Create `legs` legs at `rate` legs/s (open loop, at most 64 in flight); latency and achieved rate."""
    body = {"contact_uri": NUMBER, "exophone": "08030752400", "leg_event_endpoint": endpoint}
    latencies: list[float] = []
    failures = 0
    slots = asyncio.Semaphore(64)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(auth=auth, limits=limits, timeout=30) as client:

        async def create() -> None:
            nonlocal failures
            async with slots:
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body)
                except (httpx.ReadError, httpx.RemoteProtocolError):  # the server closed an idle keep-alive
                    response = await client.post(url, json=body)  # connection as the request went: once more
                latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 202:
                failures += 1

        t0 = time.perf_counter()
        tasks = []
        for i in range(legs):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(create()))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
        seconds = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"{failures} creates were not accepted")
    ordered = sorted(latencies)
    return {
        "achieved_legs_per_s": round(legs / seconds, 1),
        "create_p50_ms": round(statistics.median(ordered), 1),
        "create_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
    }


def run(database: str, work: Path, args: argparse.Namespace, receiver_port: int) -> dict[str, object]:
    endpoint = f"http://127.0.0.1:{receiver_port}/events"
    count_url = f"http://127.0.0.1:{receiver_port}/"
    server = LegatoServer(workdir=work, database_url=database, time_scale=args.time_scale).start()
    profiler: subprocess.Popen[bytes] | None = None
    attached: subprocess.Popen[bytes] | None = None
    poll = httpx.Client(timeout=5)
    try:
        account = server.create_account()
        url = f"{server.url}/v2/accounts/{account.account_sid}/legs"
        assert server.process is not None
        pid = server.process.pid
        base, _ = receiver_count(poll, count_url)

        def settle(expected: int, deadline_s: float = 120, every: float = 0.05) -> float:
            """Wait until the receiver holds `expected` webhooks; returns when the last one arrived."""
            deadline = time.monotonic() + deadline_s
            while True:
                received, bad = receiver_count(poll, count_url)
                if bad:
                    raise RuntimeError(f"{bad} webhooks came without signature headers")
                if received - base >= expected:
                    return time.monotonic()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {received - base} of {expected} webhooks arrived")
                time.sleep(every)

        first = time.monotonic()
        asyncio.run(offer(url, account.auth, endpoint, 1, args.rate))
        first_leg_s = settle(EVENTS_PER_LEG, every=0.002) - first
        asyncio.run(offer(url, account.auth, endpoint, args.warmup, args.rate))
        settle(EVENTS_PER_LEG * (1 + args.warmup))
        time.sleep(1.0)
        idle0 = tree_cpu_seconds(pid)
        time.sleep(2.0)
        idle_ms_per_s = (tree_cpu_seconds(pid) - idle0) * 1000 / 2.0
        if args.profile:
            profiler = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-p",
                    str(pid),
                    "-f",
                    "raw",
                    "-r",
                    "200",
                    "--native",
                    "-o",
                    args.profile + ("" if database.startswith("sqlite") else ".pg"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        if args.attach:
            attached = subprocess.Popen(args.attach.format(pid=pid, db=database.split(":", 1)[0]), shell=True,
                                        start_new_session=True)
            time.sleep(1.0)
        threads0 = thread_counters(pid)
        cpu0, wall0 = tree_cpu_seconds(pid), time.monotonic()
        load = asyncio.run(offer(url, account.auth, endpoint, args.legs, args.rate))
        settle(EVENTS_PER_LEG * (1 + args.warmup + args.legs))
        time.sleep(0.3)  # the attempt recorder lingers 50 ms before it commits
        cpu1, wall1 = tree_cpu_seconds(pid), time.monotonic()
        threads1 = thread_counters(pid)
        if profiler is not None:
            profiler.send_signal(2)
            profiler.wait(60)
            profiler = None
        if attached is not None:
            os.killpg(attached.pid, 2)
            attached.wait(60)
            attached = None
        cpu_ms = (cpu1 - cpu0) * 1000
        return {
            "database": database.split(":", 1)[0],
            "legs": args.legs,
            "offered_legs_per_s": args.rate,
            **load,
            "measured_wall_s": round(wall1 - wall0, 2),
            "server_cpu_s": round(cpu1 - cpu0, 2),
            "server_cpu_share_of_one_core": round((cpu1 - cpu0) / (wall1 - wall0), 3),
            "idle_cpu_ms_per_s": round(idle_ms_per_s, 1),
            "first_leg_to_last_webhook_s": round(first_leg_s, 3),
            "cpu_ms_per_leg": round(cpu_ms / args.legs, 3),
            **({"per_leg": counters_per_leg(threads0, threads1, args.legs)} if args.threads else {}),
        }
    finally:
        if profiler is not None:
            profiler.kill()
        if attached is not None:
            os.killpg(attached.pid, 9)
        poll.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--legs", type=int, default=1500)
    parser.add_argument("--rate", type=float, default=150.0, help="offered legs per second")
    parser.add_argument("--warmup", type=int, default=150)
    parser.add_argument("--time-scale", type=float, default=100.0)
    parser.add_argument("--profile", help="py-spy raw output file for the measured phase")
    parser.add_argument("--threads", action="store_true",
                        help="also report per leg: user/system CPU, context switches, run and run-queue time, "
                             "for the server process and each of its threads (from /proc)")
    parser.add_argument("--attach", help="a command run during the measured phase, {pid} the server's and {db} "
                        "the database's name (e.g. 'strace -c -f -p {pid} -o s-{db}.txt'); stopped with SIGINT")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only, even with LEGATO_TEST_POSTGRES_URL")
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    receiver_port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(receiver_port)], stdout=subprocess.PIPE)
    assert receiver.stdout is not None and receiver.stdout.readline().strip() == b"ready"
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            results.append(run(f"sqlite+aiosqlite:///{work / 'bench.db'}", work, args, receiver_port))
            if POSTGRES_URL and not args.no_postgres:
                results.append(run(new_postgres_database(), work, args, receiver_port))
    finally:
        receiver.terminate()
        receiver.wait(5)
        drop_postgres_databases()
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cpus {platform.python_version()}",
        "load_average_before": round(load0, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "runs": results,
    }
    print(json.dumps(report, indent=2))
    for result in results:
        print(f"cpu_ms_per_leg {result['database']} {result['cpu_ms_per_leg']}")


if __name__ == "__main__":
    main()
