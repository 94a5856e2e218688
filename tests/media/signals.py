"""Test signals: tones, DTMF, noise, silence as 8 kHz 16-bit PCM bytes, and a Goertzel level meter."""

from __future__ import annotations

import numpy as np

from legato.media.dtmf import COLS, KEYS, ROWS

RATE = 8000


def pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return b"\x00\x00" * (RATE * ms // 1000)


def tone(freq: float, ms: int, dbfs: float = -10.0) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return pcm(32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t))


def dtmf(digit: str, ms: int, dbfs: float = -12.0) -> bytes:
    r = next(i for i, row in enumerate(KEYS) if digit in row)
    c = KEYS[r].index(digit)
    t = np.arange(RATE * ms // 1000) / RATE
    amp = 32767 * 10 ** (dbfs / 20)
    return pcm(amp * (np.sin(2 * np.pi * ROWS[r] * t) + np.sin(2 * np.pi * COLS[c] * t)))


def noise(ms: int, dbfs: float, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    return pcm(rng.normal(0, 32767 * 10 ** (dbfs / 20), RATE * ms // 1000))


def add(a: bytes, b: bytes) -> bytes:
    x = np.frombuffer(a, "<i2").astype(np.float64)
    y = np.frombuffer(b, "<i2").astype(np.float64)
    n = max(x.size, y.size)
    return pcm(np.pad(x, (0, n - x.size)) + np.pad(y, (0, n - y.size)))


def tone_ratio(data: bytes, freq: float, block: int = 160) -> float:
    """Fraction of the signal's power at `freq` (0..1), by DFTs at that exact frequency on 20 ms blocks."""
    x = np.frombuffer(data, "<i2").astype(np.float64)
    x = x[: x.size // block * block].reshape(-1, block)
    total = float(np.sum(x * x))
    if total == 0:
        return 0.0
    basis = np.exp(-2j * np.pi * freq * np.arange(block) / RATE)
    return float(np.sum(2 * np.abs(x @ basis) ** 2 / block) / total)


def sit(dbfs: float = -14.0) -> bytes:
    """A special information tone triplet (low/low/high variant)."""
    return tone(913.8, 274, dbfs) + tone(1370.6, 274, dbfs) + tone(1776.7, 380, dbfs)


def hum(ms: int, mains: float = 50.0, dbfs: float = -20.0) -> bytes:
    """Mains hum: a fundamental with decaying odd and even harmonics."""
    t = np.arange(RATE * ms // 1000) / RATE
    amp = 32767 * 10 ** (dbfs / 20)
    x = sum(amp / k * np.sin(2 * np.pi * mains * k * t + k) for k in range(1, 12))
    return pcm(x)


def music(ms: int, seed: int = 0, dbfs: float = -16.0) -> bytes:
    """Music-like: notes of 150-400 ms from a scale, some pure, some with harmonics, some chords."""
    rng = np.random.default_rng(seed)
    scale = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3, 587.3, 659.3, 784.0, 880.0]
    out = b""
    amp = 32767 * 10 ** (dbfs / 20)
    while len(out) < RATE * ms // 1000 * 2:
        n = int(RATE * rng.uniform(0.15, 0.4))
        t = np.arange(n) / RATE
        f = rng.choice(scale)
        kind = rng.integers(3)
        if kind == 0:
            x = np.sin(2 * np.pi * f * t)
        elif kind == 1:
            x = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 5))
        else:
            x = sum(np.sin(2 * np.pi * g * t) for g in (f, f * 1.26, f * 1.5)) / 2
        env = np.minimum(1.0, np.minimum(t / 0.01, (t[-1] - t + 1e-9) / 0.03))
        out += pcm(amp * x * env)
    return out[: RATE * ms // 1000 * 2]
