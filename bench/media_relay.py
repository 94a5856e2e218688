"""Bridged legs held by one media engine process: its CPU and the packet loss, bounded in time.

    PYTHONPATH=src python bench/media_relay.py --legs 200 --seconds 10

Starts `python -m legato.media.server`, allocates `legs` legs bridged in pairs, and has a sender
process send 20 ms PCMU packets into one leg of every pair while this process counts what comes out
of the other. CPU is the engine's user+system time over the run (from /proc), as % of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.sharedctypes
import multiprocessing.synchronize
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

from legato.media import rtp
from legato.media.client import MediaClient

SRC = Path(__file__).resolve().parents[1] / "src"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def send(targets: list[int], seconds: float, ready: multiprocessing.synchronize.Event,
         count: multiprocessing.sharedctypes.Synchronized) -> None:  # type: ignore[type-arg]
    socks = []
    for _ in targets:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    payload = b"\xff" * 160
    ready.set()
    start = time.perf_counter()
    tick = 0
    while time.perf_counter() - start < seconds:
        for i, (s, port) in enumerate(zip(socks, targets, strict=True)):
            s.sendto(rtp.build(0, tick, tick * 160, 1000 + i, payload), ("127.0.0.1", port))
        tick += 1
        count.value = tick * len(targets)
        delay = start + tick * 0.02 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)


async def run(legs: int, seconds: float, uvloop: bool) -> None:
    pairs = legs // 2
    # below the ephemeral range, where the bench's own sockets land
    cmd = [sys.executable, "-m", "legato.media.server", "--control", "127.0.0.1:0", "--rtp-host", "127.0.0.1",
           "--rtp-ports", f"12000-{12000 + 2 * legs + 10}"] + ([] if uvloop else ["--no-uvloop"])
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)  # noqa: ASYNC220
    assert proc.stdout is not None
    port = int(proc.stdout.readline().rsplit(":", 1)[1])
    client = MediaClient("127.0.0.1", port)
    await client.start(lambda note: None)
    sel = selectors.DefaultSelector()
    receivers: list[socket.socket] = []
    a_ports: list[int] = []
    for i in range(pairs):
        a = await client.allocate(f"a{i}")
        await client.allocate(f"b{i}")
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r.bind(("127.0.0.1", 0))
        r.setblocking(False)
        sel.register(r, selectors.EVENT_READ)
        receivers.append(r)
        await client.set_remote(f"a{i}", "127.0.0.1", 9, 0)  # latches onto the sender
        await client.set_remote(f"b{i}", "127.0.0.1", r.getsockname()[1], 0)
        await client.bridge(f"a{i}", f"b{i}")
        a_ports.append(a.port)
    ready = multiprocessing.Event()
    count = multiprocessing.Value("q", 0)
    sender = multiprocessing.Process(target=send, args=(a_ports, seconds, ready, count))
    sender.start()
    ready.wait()
    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    received = 0
    deadline = t0 + seconds + 0.5
    while time.perf_counter() < deadline:
        for key, _ in sel.select(timeout=0.05):
            sock = key.fileobj
            while True:
                try:
                    data = sock.recv(2048)  # type: ignore[union-attr]
                    received += len(data) > 1 and data[1] & 0x7F == 0  # RTP audio only, not RTCP
                except BlockingIOError:
                    break
    cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
    sender.join()
    sent = count.value
    for i in range(pairs):
        await client.release(f"a{i}")
        await client.release(f"b{i}")
    await client.close()
    proc.terminate()
    proc.wait(timeout=5)
    loop_name = "uvloop" if uvloop else "asyncio"
    print(f"loop={loop_name} legs={2 * pairs} bridged pairs={pairs} packets in/s={pairs * 50} "
          f"(relayed out/s same) seconds={seconds}")
    print(f"engine CPU: {100 * (cpu1 - cpu0) / (t1 - t0):.0f}% of a core; "
          f"sent={sent} received={received} loss={max(0, sent - received) / sent:.2%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--legs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-uvloop", action="store_true")
    args = ap.parse_args()
    asyncio.run(run(args.legs, min(args.seconds, 60.0), not args.no_uvloop))


if __name__ == "__main__":
    main()
