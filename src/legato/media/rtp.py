"""RTP packets (RFC 3550): parse and build the fixed header, CSRCs, extension and padding."""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("!BBHII")
HEADER_SIZE = HEADER.size  # 12


class RtpError(ValueError):
    """A datagram that is not a well-formed RTP packet."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet; `payload` excludes header, CSRCs, extension and padding."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()

    def build(self) -> bytes:
        """Serialise to wire bytes (no extension, no padding)."""
        b0 = 0x80 | len(self.csrcs)
        b1 = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        head = HEADER.pack(b0, b1, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc)
        if self.csrcs:
            head += struct.pack(f"!{len(self.csrcs)}I", *self.csrcs)
        return head + self.payload


def build(payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes,
          marker: bool = False) -> bytes:
    """Fast path: wire bytes of a packet with no CSRCs."""
    return HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, sequence & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc) + payload


def parse(data: bytes) -> RtpPacket:
    """Parse wire bytes; raises RtpError on anything that is not RTP version 2."""
    if len(data) < HEADER_SIZE:
        raise RtpError("shorter than an RTP header")
    b0, b1, seq, ts, ssrc = HEADER.unpack_from(data)
    if b0 >> 6 != 2:
        raise RtpError("RTP version is not 2")
    cc = b0 & 0x0F
    offset = HEADER_SIZE + 4 * cc
    end = len(data)
    if offset > end:
        raise RtpError("truncated CSRC list")
    csrcs = struct.unpack_from(f"!{cc}I", data, HEADER_SIZE) if cc else ()
    if b0 & 0x10:  # header extension
        if offset + 4 > end:
            raise RtpError("truncated header extension")
        (words,) = struct.unpack_from("!H", data, offset + 2)
        offset += 4 + 4 * words
    if b0 & 0x20:  # padding: last byte says how many bytes to drop
        pad = data[-1]
        if pad == 0 or offset + pad > end:
            raise RtpError("bad padding")
        end -= pad
    if offset > end:
        raise RtpError("truncated packet")
    return RtpPacket(payload_type=b1 & 0x7F, sequence=seq, timestamp=ts, ssrc=ssrc,
                     payload=bytes(data[offset:end]), marker=bool(b1 & 0x80), csrcs=tuple(csrcs))


def is_rtcp(data: bytes) -> bool:
    """True when a datagram looks like RTCP multiplexed on the RTP port (RFC 5761: PT 192-223)."""
    return len(data) >= 2 and 192 <= data[1] <= 223
