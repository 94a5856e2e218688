"""A far-end RTP endpoint for tests: sends PCM as paced G.711 RTP, sends RFC 4733 digits, collects packets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from legato.media import g711, rtp
from legato.media.telephone_event import event_payloads


class RtpPeer(asyncio.DatagramProtocol):
    """Bound on 127.0.0.1; `target` is the engine port it sends to."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.received: list[tuple[float, rtp.RtpPacket]] = []
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.ts = random.getrandbits(32)
        self.target: tuple[str, int] | None = None
        self._arrived = asyncio.Event()

    @classmethod
    async def open(cls) -> RtpPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.received.append((asyncio.get_running_loop().time(), rtp.parse(data)))
        except rtp.RtpError:
            return
        self._arrived.set()

    async def wait_for(self, done: int | Callable[[], bool], within: float = 10.0) -> None:
        """Wait until `done` packets arrived in all (or until `done()` is true), not by sleeping."""
        check = (lambda: len(self.received) >= done) if isinstance(done, int) else done

        async def until() -> None:
            while not check():
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(until(), within)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[1]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _send(self, pt: int, ts: int, payload: bytes, marker: bool = False) -> None:
        assert self.transport is not None and self.target is not None
        self.seq = (self.seq + 1) & 0xFFFF
        self.transport.sendto(rtp.build(pt, self.seq, ts, self.ssrc, payload, marker), self.target)

    async def send_pcm(self, pcm: bytes, codec: int = 0, speed: float = 1.0) -> None:
        """Send 16-bit PCM as 20 ms packets, paced in real time (or `speed` times faster)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, off in enumerate(range(0, len(pcm), g711.FRAME_BYTES)):
            frame = pcm[off:off + g711.FRAME_BYTES].ljust(g711.FRAME_BYTES, b"\x00")
            self._send(codec, self.ts, g711.encode(codec, frame), marker=i == 0)
            self.ts = (self.ts + g711.FRAME_SAMPLES) & 0xFFFFFFFF
            delay = start + (i + 1) * 0.02 / speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # kept: RTP is paced in real time, one frame per 20 ms

    async def send_digit(self, digit: str, duration_ms: int = 100, pt: int = 101,
                         drop_end: bool = False) -> None:
        """Send one RFC 4733 event (optionally losing every end packet)."""
        ts = self.ts
        for marker, payload in event_payloads(digit, duration_ms):
            if drop_end and payload[1] & 0x80:
                continue
            self._send(pt, ts, payload, marker)
            await asyncio.sleep(0.02)  # kept: RFC 4733 packets are paced like the audio, one per 20 ms
        self.ts = (self.ts + duration_ms * 8) & 0xFFFFFFFF

    def audio_pcm(self) -> bytes:
        """Everything received as audio, decoded in arrival order."""
        return b"".join(g711.decode(p.payload_type, p.payload) for _, p in self.received
                        if p.payload_type in (0, 8))
