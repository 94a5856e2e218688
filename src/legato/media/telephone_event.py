"""RFC 4733 telephone-events (DTMF over RTP): payload encode/decode, a receiver and a sender.

Receive rules: the RTP timestamp identifies an event; a digit is reported on the first packet seen
for a timestamp, so lost end packets (or a lost first packet) never lose the digit, and repeated
end packets are deduplicated. Send rules: marker bit on the first packet, one fixed timestamp for
the whole event, growing duration, the end packet sent three times.
"""

from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

DIGITS = "0123456789*#ABCD"
_PAYLOAD = struct.Struct("!BBH")
DEFAULT_PAYLOAD_TYPE = 101
END_REPEATS = 3


def digit_to_event(digit: str) -> int:
    """'0'-'9', '*', '#', 'A'-'D' -> event code 0-15."""
    code = DIGITS.find(digit.upper())
    if code < 0 or len(digit) != 1:
        raise ValueError(f"not a DTMF digit: {digit!r}")
    return code


def event_to_digit(code: int) -> str | None:
    """Event code -> digit, or None for non-DTMF events (flash, tones)."""
    return DIGITS[code] if 0 <= code < 16 else None


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """The 4-byte payload of RFC 4733 section 2.3."""

    event: int
    end: bool
    volume: int  # 0..63, in -dBm0
    duration: int  # in timestamp units (samples at 8 kHz)

    def encode(self) -> bytes:
        return _PAYLOAD.pack(self.event & 0xFF, (0x80 if self.end else 0) | (self.volume & 0x3F),
                             min(self.duration, 0xFFFF))

    @classmethod
    def decode(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < 4:
            raise ValueError("telephone-event payload shorter than 4 bytes")
        event, flags, duration = _PAYLOAD.unpack_from(payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)


@dataclass(frozen=True, slots=True)
class DtmfDigit:
    """A digit received as a telephone-event."""

    digit: str
    timestamp: int
    volume: int


class TelephoneEventReceiver:
    """Turns received telephone-event packets into digits, one per event."""

    def __init__(self, memory: int = 16) -> None:
        self._seen: deque[int] = deque(maxlen=memory)
        self._last: tuple[int, int, int, bool] | None = None  # (timestamp, event, duration, ended)

    def feed(self, timestamp: int, payload: bytes) -> DtmfDigit | None:
        """Feed one packet's timestamp and payload; returns a digit the first time an event is seen."""
        try:
            ev = TelephoneEvent.decode(payload)
        except ValueError:
            return None
        if timestamp in self._seen:
            if self._last and self._last[0] == timestamp:
                self._last = (timestamp, ev.event, max(self._last[2], ev.duration), self._last[3] or ev.end)
            return None
        # A long event is split into segments with new timestamps (RFC 4733 2.5.1.3): not a new digit.
        if self._last is not None:
            last_ts, last_event, last_duration, ended = self._last
            gap = (timestamp - last_ts) & 0xFFFFFFFF
            if not ended and last_event == ev.event and gap <= last_duration + 160:
                self._seen.append(timestamp)
                self._last = (timestamp, ev.event, ev.duration, ev.end)
                return None
        self._seen.append(timestamp)
        self._last = (timestamp, ev.event, ev.duration, ev.end)
        digit = event_to_digit(ev.event)
        return DtmfDigit(digit, timestamp, ev.volume) if digit is not None else None


def event_payloads(digit: str, duration_ms: int = 100, ptime_ms: int = 20, volume: int = 10,
                   rate: int = 8000) -> list[tuple[bool, bytes]]:
    """The (marker, payload) sequence to send one digit: growing duration, then the end packet x3.

    All packets share one RTP timestamp (the event's start), chosen by the sender; consecutive
    packets are `ptime_ms` apart.
    """
    code = digit_to_event(digit)
    step = rate * ptime_ms // 1000
    total = max(step, rate * duration_ms // 1000)
    out: list[tuple[bool, bytes]] = []
    elapsed = step
    while elapsed < total:
        out.append((not out, TelephoneEvent(code, False, volume, elapsed).encode()))
        elapsed += step
    end = TelephoneEvent(code, True, volume, total).encode()
    if not out:  # very short events: the first packet is already an end packet
        out.append((True, end))
        out.extend((False, end) for _ in range(END_REPEATS - 1))
    else:
        out.extend((False, end) for _ in range(END_REPEATS))
    return out
