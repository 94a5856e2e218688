"""Sending digits as RFC 4733 telephone-events, one packet per 20 ms tick, 60 ms between digits."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from legato.media.rtp_sender import RtpSender
from legato.media.telephone_event import event_payloads

GAP_TICKS = 3  # 60 ms of silence between digits

SendEvent = Callable[[int, bytes, bool], None]  # (timestamp, payload, marker)


class DigitSender:
    """A queue of digits; `tick` sends what is due and says whether it is still sending."""

    def __init__(self) -> None:
        self.queue: deque[tuple[str, int]] = deque()
        self._event: tuple[int, list[tuple[bool, bytes]], int] | None = None  # (ts, packets, index)
        self._gap_ticks = 0

    @property
    def busy(self) -> bool:
        return bool(self.queue or self._event is not None or self._gap_ticks)

    def add(self, digits: str, duration_ms: int) -> None:
        self.queue.extend((d, duration_ms) for d in digits)

    def clear(self) -> None:
        self.queue.clear()
        self._event = None

    def tick(self, now: float, sender: RtpSender, send: SendEvent) -> tuple[bool, bool]:
        """Send this tick's packet; returns (ticked, all_sent): ticked is False when idle."""
        if self._gap_ticks:
            self._gap_ticks -= 1
            return True, False
        if self._event is None and not self.queue:
            return False, False
        if self._event is None:
            digit, duration_ms = self.queue.popleft()
            ts, _ = sender.timestamp(now, 0)
            self._event = (ts, event_payloads(digit, duration_ms), 0)
        ts, packets, index = self._event
        marker, payload = packets[index]
        send(ts, payload, marker)
        sender.last_send = now
        if index + 1 < len(packets):
            self._event = (ts, packets, index + 1)
            return True, False
        duration = int.from_bytes(payload[2:4], "big")
        sender.next_ts = (ts + duration) & 0xFFFFFFFF
        self._event = None
        self._gap_ticks = GAP_TICKS
        return True, not self.queue
