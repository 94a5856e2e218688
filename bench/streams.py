"""Media streams held by one media engine process: Legato's added latency each way and loss, bounded.

    PYTHONPATH=src python bench/streams.py --streams 200 --seconds 10

Starts `python -m legato.media.server`, allocates `streams` legs, and starts a bidirectional Twilio
stream on each to WebSocket agents (`--agents` processes, uvloop). A peer process sends 20 ms PCMU
packets into every leg and receives what the leg plays back; the agent sends 20 ms of audio on every
stream every 20 ms. Each payload carries its send time (CLOCK_MONOTONIC, shared by the processes),
so the figures are Legato's added latency RTP packet in -> WebSocket frame out and WebSocket frame in
-> RTP packet out (including the 20 ms send clock and the jitter buffer), plus loss each way. CPU is
the engine's user+system time over the run, as % of one core. Loopback only; the run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection, serve

from legato.media import rtp
from legato.media.client import MediaClient

SRC = Path(__file__).resolve().parents[1] / "src"
WARMUP = 1.0  # seconds of figures dropped at the start


def stamp() -> bytes:
    """160 PCMU bytes carrying the send time; no 0x7F byte (mu-law's -0, which re-encodes as 0xFF)."""
    return b"T" + b"%016x" % time.perf_counter_ns() + b"U" * 143


def read_stamp(payload: bytes) -> int | None:
    return int(payload[1:17], 16) if payload[:1] == b"T" else None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peer(
    ports: list[int], seconds: float, bound: multiprocessing.Queue, go: Any, result: multiprocessing.Queue
) -> None:
    """The far ends: send 20 ms PCMU into every leg; receive what each leg sends back."""
    socks, sel = [], selectors.DefaultSelector()
    for _ in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    bound.put([s.getsockname()[1] for s in socks])
    go.wait()  # the streams are up
    start = time.perf_counter()
    warm = time.perf_counter_ns() + int(WARMUP * 1e9)
    latencies: list[float] = []
    sent = received = tick = 0
    while (now := time.perf_counter()) - start < seconds + 0.5:
        if now - start < seconds and now >= start + tick * 0.02:
            for i, (s, port) in enumerate(zip(socks, ports, strict=True)):
                s.sendto(rtp.build(0, tick, tick * 160, 1000 + i, stamp()), ("127.0.0.1", port))
            sent += len(socks)
            tick += 1
        for key, _ in sel.select(timeout=max(0.0, start + tick * 0.02 - time.perf_counter())):
            while True:
                try:
                    data = key.fileobj.recv(2048)  # type: ignore[union-attr]
                except BlockingIOError:
                    break
                if len(data) < 12 or data[1] & 0x7F != 0:
                    continue
                at = read_stamp(rtp.parse(data).payload)
                if at is not None:
                    received += 1
                    if at > warm:
                        latencies.append((time.perf_counter_ns() - at) / 1e6)
    result.put((sent, received, latencies))


class Agent:
    """Voice agents: every stream's frames in, 20 ms of audio out per stream every 20 ms."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.latencies: list[float] = []
        self.received = self.sent = 0
        self.warm = 0
        self.connections: list[tuple[ServerConnection, str]] = []  # with the stream_sid its path names

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.connections.append((ws, "MZ" + ws.request.path.removeprefix("/s")))
        async for text in ws:
            where = text.find('"payload":"')  # cheaper than json.loads: the agents must keep up with the engine
            if where >= 0:
                at = read_stamp(base64.b64decode(text[where + 11 : where + 11 + 24]))
                if at is not None:
                    self.received += 1
                    if at > self.warm:
                        self.latencies.append((time.perf_counter_ns() - at) / 1e6)

    async def speak(self) -> None:
        start, tick = time.perf_counter(), 0
        while time.perf_counter() - start < self.seconds:
            for ws, sid in self.connections:
                payload = base64.b64encode(stamp()).decode()
                await ws.send(f'{{"event":"media","streamSid":"{sid}","media":{{"payload":"{payload}"}}}}')
                self.sent += 1
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * 0.02 - time.perf_counter()))

    async def serve(self, streams: int, port: multiprocessing.Queue, go: Any, result: multiprocessing.Queue) -> None:
        server = await serve(self.handle, "127.0.0.1", 0, compression=None, max_queue=None)
        port.put(server.sockets[0].getsockname()[1])
        await asyncio.to_thread(go.wait)
        deadline = time.perf_counter() + 30
        while len(self.connections) < streams and time.perf_counter() < deadline:  # noqa: ASYNC110 (bounded)
            await asyncio.sleep(0.05)
        self.warm = time.perf_counter_ns() + int(WARMUP * 1e9)
        await self.speak()
        await asyncio.sleep(1.0)  # what the peer sent last is still on its way
        result.put((self.sent, self.received, self.latencies))
        server.close()


def agent_process(
    streams: int, seconds: float, port: multiprocessing.Queue, go: Any, result: multiprocessing.Queue
) -> None:
    uvloop_run(Agent(seconds).serve(streams, port, go, result))


def uvloop_run(work: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(work)
    except ImportError:
        return asyncio.run(work)


def figures(latencies: list[float]) -> str:
    if not latencies:
        return "no figures"
    p50, p99, top = np.percentile(latencies, [50, 99, 100])
    return f"p50={p50:.1f} ms p99={p99:.1f} ms max={top:.1f} ms (n={len(latencies)})"


async def run(streams: int, seconds: float, agents: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "legato.media.server",
        "--control",
        "127.0.0.1:0",
        "--rtp-host",
        "127.0.0.1",
        "--rtp-ports",
        f"14000-{14000 + 2 * streams + 10}",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(SRC)})  # noqa: ASYNC220
    assert proc.stdout is not None
    client = MediaClient("127.0.0.1", int(proc.stdout.readline().rsplit(":", 1)[1]))
    started: set[str] = set()
    await client.start(lambda note: note.name == "stream_started" and started.add(note.leg_id))  # type: ignore[func-returns-value]
    leg_ports = [(await client.allocate(f"s{i}")).port for i in range(streams)]
    spawn = multiprocessing.get_context("spawn")  # a forked child would inherit the running loop
    bound, result, agent_port, agent_result = (spawn.Queue() for _ in range(4))
    go = spawn.Event()
    shares = [len(range(a, streams, agents)) for a in range(agents)]
    workers = [
        spawn.Process(target=agent_process, args=(share, seconds, agent_port, go, agent_result)) for share in shares
    ]
    far = spawn.Process(target=peer, args=(leg_ports, seconds, bound, go, result))
    for worker in (*workers, far):
        worker.start()
    ports = [await asyncio.to_thread(agent_port.get, timeout=30) for _ in workers]
    peer_ports = await asyncio.to_thread(bound.get, timeout=30)
    for i, port in enumerate(peer_ports):
        await client.set_remote(f"s{i}", "127.0.0.1", port, 0)
        url = f"ws://127.0.0.1:{ports[i % agents]}/s{i}"
        await client.start_stream(
            f"s{i}",
            {
                "stream_sid": f"MZ{i}",
                "url": url,
                "address": "127.0.0.1",
                "account_sid": "bench",
                "protocol": "twilio",
                "bidirectional": True,
            },
        )
    deadline = time.perf_counter() + 30
    while len(started) < streams and time.perf_counter() < deadline:  # noqa: ASYNC110 (bounded start-up poll)
        await asyncio.sleep(0.05)
    cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
    go.set()
    sent, received, back = await asyncio.to_thread(result.get, timeout=seconds + 60)  # the run stops by itself
    ws_sent = ws_received = 0
    latencies: list[float] = []
    for _ in workers:
        w_sent, w_received, w_latencies = await asyncio.to_thread(agent_result.get, timeout=seconds + 60)
        ws_sent, ws_received = ws_sent + w_sent, ws_received + w_received
        latencies += w_latencies
    cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
    for worker in (*workers, far):
        worker.join(10)
    for i in range(streams):
        await client.release(f"s{i}")
    await client.close()
    proc.terminate()
    proc.wait(timeout=5)
    return {
        "streams": streams,
        "seconds": seconds,
        "agent_processes": agents,
        "engine_cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0)),
        "rtp_to_ws": figures(latencies),
        "rtp_sent": sent,
        "ws_received": ws_received,
        "ws_to_rtp": figures(back),
        "ws_sent": ws_sent,
        "rtp_received": received,
    }


def core_cost(frames: int = 5000) -> str:
    """CPU per 20 ms frame in the engine's stream path alone (no sockets): RTP in -> frame out, frame in -> RTP."""
    from legato.media import commands
    from legato.media.channel_core import ChannelCore
    from legato.media.stream.core import build_stream

    core = ChannelCore(0.0)
    core.set_remote("127.0.0.1", 9, 0, 101)
    stream = build_stream(commands.StartStream("L", "MZ", "ws://x/", "127.0.0.1", "a", bidirectional=True))
    core.start_stream(stream)
    stream.open(0.0)
    packets = [rtp.build(0, i, i * 160, 5, stamp()) for i in range(frames)]
    t0 = time.process_time()
    for i, packet in enumerate(packets):
        core.receive(packet, ("127.0.0.1", 9), i * 0.02)
        core.drain()
        stream.drain()
    t1 = time.process_time()
    payload = base64.b64encode(stamp()).decode()
    frame = json.dumps({"event": "media", "streamSid": "MZ", "media": {"payload": payload}})
    for i in range(frames):
        now = 1000 + i * 0.02
        core.stream_received(stream, frame, now)
        core.tick(now)
        core.drain()
        stream.drain()
    t2 = time.process_time()
    return f"{(t1 - t0) / frames * 1e6:.0f} us RTP in -> frame out, {(t2 - t1) / frames * 1e6:.0f} us frame in -> RTP"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--agents", type=int, default=4, help="agent processes the streams are spread over")
    args = ap.parse_args()
    report = uvloop_run(run(max(1, min(args.streams, 500)), min(args.seconds, 60.0), max(1, args.agents)))
    report["core_cost_per_frame"] = core_cost()
    for key, value in report.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
