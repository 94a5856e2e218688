import struct

import pytest

from legato.media import rtp


def test_build_parse_round_trip() -> None:
    pkt = rtp.RtpPacket(payload_type=8, sequence=65535, timestamp=2**32 - 1, ssrc=0xDEADBEEF,
                        payload=b"abc", marker=True, csrcs=(1, 2))
    back = rtp.parse(pkt.build())
    assert back == pkt


def test_fast_build_matches() -> None:
    data = rtp.build(0, 70000, 2**33 + 5, 7, b"\xff" * 160, marker=False)
    pkt = rtp.parse(data)
    fields = (pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.ssrc, pkt.marker)
    assert fields == (0, 70000 & 0xFFFF, 5, 7, False)
    assert len(pkt.payload) == 160


def test_extension_and_padding_are_stripped() -> None:
    head = struct.pack("!BBHII", 0x80 | 0x10 | 0x20, 0, 1, 2, 3)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\x00" * 4
    data = head + ext + b"PAYLOAD" + b"\x00\x00\x03"
    assert rtp.parse(data).payload == b"PAYLOAD"


@pytest.mark.parametrize("data", [b"", b"\x80" * 11, b"\x40" + b"\x00" * 11,
                                  struct.pack("!BBHII", 0x8F, 0, 0, 0, 0)])
def test_rejects_malformed(data: bytes) -> None:
    with pytest.raises(rtp.RtpError):
        rtp.parse(data)


def test_rtcp_demux() -> None:
    assert rtp.is_rtcp(b"\x81\xc9")
    assert not rtp.is_rtcp(rtp.build(0, 1, 1, 1, b""))
