"""Telephone audio to the recogniser's 16 kHz: 2x upsampling with a windowed-sinc low-pass (numpy)."""

from __future__ import annotations

import numpy as np

_TAPS = 2 * 24 + 1


def _kernel() -> np.ndarray:
    n = np.arange(_TAPS) - _TAPS // 2
    return np.sinc(n / 2) * np.hamming(_TAPS)  # cut-off at the 8 kHz input's 4 kHz Nyquist, gain 2 with zeros


_KERNEL = _kernel()


def to_16k(pcm16: bytes, sample_rate: int) -> bytes:
    """16 kHz mono 16-bit PCM from 8 or 16 kHz."""
    if sample_rate == 16000:
        return pcm16
    samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float64)
    up = np.zeros(len(samples) * 2)
    up[::2] = samples
    out = np.convolve(up, _KERNEL, mode="same")
    return np.clip(out, -32768, 32767).astype("<i2").tobytes()
