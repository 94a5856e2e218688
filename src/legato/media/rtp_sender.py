"""Outgoing RTP sequencing: one SSRC, sequence numbers, and a timestamp that follows the clock."""

from __future__ import annotations

import random

from legato.media import g711, rtp

PTIME = 0.020
GAP_RESYNC = 3 * PTIME  # a send after this long starts a new talkspurt (timestamp jump, marker)


class RtpSender:
    """Numbers and stamps the packets one leg sends; pure (the caller puts the bytes on the wire)."""

    def __init__(self) -> None:
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.next_ts = random.getrandbits(32)
        self.last_send: float | None = None
        self.packets_sent = 0

    def timestamp(self, now: float, samples: int) -> tuple[int, bool]:
        """The RTP timestamp for a packet sent now carrying `samples`, and whether it starts a talkspurt."""
        marker = False
        if self.last_send is None:
            marker = True
        elif now - self.last_send > GAP_RESYNC:
            jump = round((now - self.last_send - PTIME) / PTIME) * g711.FRAME_SAMPLES
            self.next_ts = (self.next_ts + jump) & 0xFFFFFFFF
            marker = True
        ts = self.next_ts
        self.next_ts = (ts + samples) & 0xFFFFFFFF
        self.last_send = now
        return ts, marker

    def packet(self, pt: int, ts: int, payload: bytes, marker: bool) -> bytes:
        """Wire bytes of the next packet."""
        self.seq = (self.seq + 1) & 0xFFFF
        self.packets_sent += 1
        return rtp.build(pt, self.seq, ts, self.ssrc, payload, marker)
