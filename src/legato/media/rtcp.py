"""RTCP receiver figures (RFC 3550 appendix A.1, A.3, A.8) and receiver-report packets."""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass

RTP_SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000
MAX_MISORDER = 100
MIN_SEQUENTIAL = 2


@dataclass(frozen=True, slots=True)
class ReceiverStats:
    """What a leg's receiver measured: packets, loss and interarrival jitter."""

    ssrc: int
    packets_received: int
    packets_expected: int
    packets_lost: int
    fraction_lost: float  # over the whole stream, 0..1
    jitter_ms: float
    max_jitter_ms: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


class ReceiverStatistics:
    """Sequence-number bookkeeping and jitter for one incoming RTP stream (per RFC 3550)."""

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self.ssrc = 0
        self.max_seq = 0
        self.cycles = 0
        self.base_seq = 0
        self.bad_seq = RTP_SEQ_MOD + 1
        self.probation = MIN_SEQUENTIAL
        self.received = 0
        self.expected_prior = 0
        self.received_prior = 0
        self.transit: int | None = None
        self.jitter = 0.0  # timestamp units
        self.max_jitter = 0.0
        self._started = False

    def _init_seq(self, seq: int) -> None:
        self.base_seq = seq
        self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0
        self.received = 0
        self.received_prior = 0
        self.expected_prior = 0

    def update(self, ssrc: int, seq: int, timestamp: int, arrival: float) -> bool:
        """Account one packet (arrival in seconds); returns False for packets judged invalid."""
        if not self._started or ssrc != self.ssrc:
            self._started = True
            self.ssrc = ssrc
            self._init_seq(seq)
            self.max_seq = seq - 1
            self.probation = MIN_SEQUENTIAL
            self.transit = None
            self.jitter = 0.0
        if not self._update_seq(seq):
            return False
        self._update_jitter(timestamp, arrival)
        return True

    def _update_seq(self, seq: int) -> bool:
        udelta = (seq - self.max_seq) % RTP_SEQ_MOD
        if self.probation:
            if seq == (self.max_seq + 1) % RTP_SEQ_MOD:
                self.probation -= 1
                self.max_seq = seq
                if self.probation == 0:
                    self._init_seq(seq)
                    self.base_seq = seq - (MIN_SEQUENTIAL - 1)  # may be negative: fine for the arithmetic
                    self.received = MIN_SEQUENTIAL  # the packets seen on probation count too
                    return True
            else:
                self.probation = MIN_SEQUENTIAL - 1
                self.max_seq = seq
            return False
        if udelta < MAX_DROPOUT:
            if seq < self.max_seq:
                self.cycles += RTP_SEQ_MOD
            self.max_seq = seq
        elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
            if seq == self.bad_seq:
                self._init_seq(seq)  # the source restarted: resync
            else:
                self.bad_seq = (seq + 1) % RTP_SEQ_MOD
                return False
        # else: duplicate or reordered packet, counted
        self.received += 1
        return True

    def _update_jitter(self, timestamp: int, arrival: float) -> None:
        arrival_units = int(arrival * self.clock_rate)
        transit = (arrival_units - timestamp) & 0xFFFFFFFF
        if self.transit is not None:
            d = transit - self.transit
            if d > 0x7FFFFFFF:
                d -= 1 << 32
            elif d < -0x7FFFFFFF:
                d += 1 << 32
            self.jitter += (abs(d) - self.jitter) / 16.0
            self.max_jitter = max(self.max_jitter, self.jitter)
        self.transit = transit

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return self.extended_max - self.base_seq + 1 if self.received else 0

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received) if self.received else 0

    def interval_fraction_lost(self) -> int:
        """The 8-bit fraction lost since the previous call (for a receiver report)."""
        expected, received = self.expected, self.received
        exp_int = expected - self.expected_prior
        rec_int = received - self.received_prior
        self.expected_prior, self.received_prior = expected, received
        lost_int = exp_int - rec_int
        return 0 if exp_int <= 0 or lost_int <= 0 else (lost_int << 8) // exp_int

    def snapshot(self) -> ReceiverStats:
        expected = self.expected
        to_ms = 1000.0 / self.clock_rate
        return ReceiverStats(
            ssrc=self.ssrc, packets_received=self.received, packets_expected=expected,
            packets_lost=self.lost, fraction_lost=(self.lost / expected) if expected else 0.0,
            jitter_ms=round(self.jitter * to_ms, 3), max_jitter_ms=round(self.max_jitter * to_ms, 3))


def build_receiver_report(sender_ssrc: int, stats: ReceiverStatistics | None) -> bytes:
    """An RTCP RR packet (PT 201) with one report block, or none before any packet arrived."""
    if stats is None or not stats.received:
        return struct.pack("!BBHI", 0x80, 201, 1, sender_ssrc)
    fraction = stats.interval_fraction_lost()
    lost = min(stats.lost, 0x7FFFFF)
    block = struct.pack("!IIIIII", stats.ssrc, (fraction << 24) | lost, stats.extended_max & 0xFFFFFFFF,
                        int(stats.jitter) & 0xFFFFFFFF, 0, 0)
    return struct.pack("!BBHI", 0x81, 201, 7, sender_ssrc) + block


def parse_receiver_report(data: bytes) -> dict[str, int] | None:
    """The first report block of an RR or SR packet, or None."""
    if len(data) < 8 or data[0] >> 6 != 2:
        return None
    count, pt = data[0] & 0x1F, data[1]
    offset = {201: 8, 200: 28}.get(pt)
    if offset is None or count == 0 or len(data) < offset + 24:
        return None
    ssrc, lost_word, ext_max, jitter, _lsr, _dlsr = struct.unpack_from("!IIIIII", data, offset)
    lost = lost_word & 0xFFFFFF
    if lost & 0x800000:
        lost -= 1 << 24
    return {"ssrc": ssrc, "fraction_lost": lost_word >> 24, "cumulative_lost": lost,
            "extended_max_seq": ext_max, "jitter": jitter}
