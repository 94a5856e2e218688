"""G.711 PCMU (mu-law) and PCMA (A-law) codecs over 16-bit little-endian linear PCM, via `audioop`."""

from __future__ import annotations

import sys
import warnings
from enum import IntEnum

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # on Python >= 3.13 provided by the audioop-lts package

SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * SAMPLE_WIDTH  # 320 bytes of linear PCM

assert sys.byteorder == "little", "linear PCM here is little-endian, as audioop produces on this host"


class Codec(IntEnum):
    """Static RTP payload types of the G.711 codecs."""

    PCMU = 0
    PCMA = 8

    @property
    def encoding_name(self) -> str:
        return self.name


def decode(codec: Codec | int, payload: bytes) -> bytes:
    """G.711 bytes -> 16-bit linear PCM."""
    if codec == Codec.PCMU:
        return audioop.ulaw2lin(payload, SAMPLE_WIDTH)
    if codec == Codec.PCMA:
        return audioop.alaw2lin(payload, SAMPLE_WIDTH)
    raise ValueError(f"not a G.711 payload type: {codec}")


def encode(codec: Codec | int, pcm: bytes) -> bytes:
    """16-bit linear PCM -> G.711 bytes."""
    if codec == Codec.PCMU:
        return audioop.lin2ulaw(pcm, SAMPLE_WIDTH)
    if codec == Codec.PCMA:
        return audioop.lin2alaw(pcm, SAMPLE_WIDTH)
    raise ValueError(f"not a G.711 payload type: {codec}")


def transcode(src: Codec | int, dst: Codec | int, payload: bytes) -> bytes:
    """Convert a G.711 payload between PCMU and PCMA (identity when they match)."""
    if src == dst:
        return payload
    return encode(dst, decode(src, payload))


def silence(codec: Codec | int, samples: int = FRAME_SAMPLES) -> bytes:
    """Encoded digital silence of `samples` samples."""
    return encode(codec, b"\x00\x00" * samples)


def mix(a: bytes, b: bytes) -> bytes:
    """Sum two linear PCM buffers (the shorter is zero-padded), saturating."""
    if len(a) < len(b):
        a = a + b"\x00" * (len(b) - len(a))
    elif len(b) < len(a):
        b = b + b"\x00" * (len(a) - len(b))
    return audioop.add(a, b, SAMPLE_WIDTH)


def rms(pcm: bytes) -> int:
    """Root-mean-square level of linear PCM."""
    return audioop.rms(pcm, SAMPLE_WIDTH) if pcm else 0


def resample(pcm: bytes, src_rate: int, dst_rate: int, state: object = None) -> tuple[bytes, object]:
    """16-bit PCM from `src_rate` to `dst_rate` Hz; pass the returned state to the next call of a stream."""
    if src_rate == dst_rate:
        return pcm, state
    out, state = audioop.ratecv(pcm, SAMPLE_WIDTH, 1, src_rate, dst_rate, state)
    return out, state
