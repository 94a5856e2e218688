"""Conference mixing in one media engine process: CPU per participant, and the largest conference it mixes
at 20 ms without loss.

    PYTHONPATH=src python bench/conference_mix.py --sizes 10,50,100,200 --seconds 5

For each size N: starts `python -m legato.media.server`, allocates N legs in one conference (all
participants), and sends each leg a 20 ms PCMU packet every 20 ms from its own socket, while counting the
mixed packets the engine sends back to those sockets. CPU is the engine's user+system time over the
measured window (from /proc), as % of one core. The engine says for how long it mixed, how many 20 ms
steps it ran and how many of them late (caught up); steps it never ran (more than 100 ms behind) are
"skipped": their audio is lost. Every step run owes each member one packet: "lost packets" = owed -
arrived. Also times the pure mixer step alone (no decode, encode or sockets).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from legato.media import g711, rtp
from legato.media.client import MediaClient
from legato.media.mixer import Mixer, MixMember

SRC = Path(__file__).resolve().parents[1] / "src"
WARM_UP = 1.0  # seconds before the window: every leg has latched and the mix runs


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mixer_step_us(size: int, steps: int = 500) -> float:
    """Microseconds per mixer step (decode and encode excluded) for `size` talking participants."""
    mixer = Mixer()
    mixer.set_members([MixMember(f"l{i}") for i in range(size)])
    frame = g711.decode(0, bytes(range(160)))
    start = time.perf_counter()
    for _ in range(steps):
        for i in range(size):
            mixer.push(f"l{i}", frame)
        mixer.mix()
    return (time.perf_counter() - start) / steps * 1e6


def drain(socks: list[socket.socket]) -> int:
    got = 0
    for sock in socks:
        while True:
            try:
                data = sock.recv(2048)
            except BlockingIOError:
                break
            got += len(data) > 1 and data[1] & 0x7F in (0, 8)  # RTP audio, not RTCP
    return got


async def run_size(size: int, seconds: float, uvloop: bool) -> tuple[float, dict[str, float], int]:
    cmd = [
        sys.executable,
        "-m",
        "legato.media.server",
        "--control",
        "127.0.0.1:0",
        "--rtp-host",
        "127.0.0.1",
        "--rtp-ports",
        f"31000-{31000 + 2 * size + 10}",
    ] + ([] if uvloop else ["--no-uvloop"])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(SRC)})  # noqa: ASYNC220
    assert proc.stdout is not None
    client = MediaClient("127.0.0.1", int(proc.stdout.readline().rsplit(":", 1)[1]))
    await client.start(lambda note: None)
    socks, ports = [], []
    for i in range(size):
        allocation = await client.allocate(f"leg{i}")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        await client.set_remote(f"leg{i}", "127.0.0.1", sock.getsockname()[1], 0)
        socks.append(sock)
        ports.append(allocation.port)
    members = [{"leg_id": f"leg{i}", "role": "participant"} for i in range(size)]
    await client.conference_set("bench", members)
    payload = g711.encode(0, g711.decode(0, bytes(range(160))))
    start = time.perf_counter()
    tick = received = 0
    cpu0 = t0 = None
    while (now := time.perf_counter()) - start < WARM_UP + seconds:
        for i, (sock, port) in enumerate(zip(socks, ports, strict=True)):
            sock.sendto(rtp.build(0, tick, tick * 160, 1000 + i, payload), ("127.0.0.1", port))
        tick += 1
        received += drain(socks)
        if t0 is None and now - start >= WARM_UP:
            cpu0, t0 = cpu_seconds(proc.pid), now
        delay = start + tick * 0.02 - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
    assert cpu0 is not None and t0 is not None
    ended = await client.conference_end("bench")
    await asyncio.sleep(0.2)
    received += drain(socks)
    await client.close()
    proc.terminate()
    proc.wait(timeout=5)
    for sock in socks:
        sock.close()
    return 100 * (cpu1 - cpu0) / (t1 - t0), ended, received


async def main_async(sizes: list[int], seconds: float, uvloop: bool) -> None:
    print(f"loop={'uvloop' if uvloop else 'asyncio'} seconds={seconds} (after {WARM_UP} s warm-up)")
    print(
        "| participants | engine CPU (% of a core) | CPU per participant | steps run (late) | steps skipped "
        "| packets owed | lost packets | mixer step alone |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size in sizes:
        cpu, ended, received = await run_size(size, seconds, uvloop)
        steps, late = int(ended["steps"]), int(ended["late_steps"])
        skipped = max(0, round(ended["seconds"] / 0.02) - steps)
        print(
            f"| {size} | {cpu:.0f}% | {cpu / size:.3f}% | {steps} ({late}) | {skipped} | {size * steps} "
            f"| {max(0, size * steps - received)} | {mixer_step_us(size):.0f} us |",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,50,100,200", help="conference sizes to run, comma-separated")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--no-uvloop", action="store_true")
    args = ap.parse_args()
    asyncio.run(main_async([int(s) for s in args.sizes.split(",")], min(args.seconds, 60.0), not args.no_uvloop))


if __name__ == "__main__":
    main()
