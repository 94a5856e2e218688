"""Signals for the AMD corpus (8 kHz float arrays): tones, SIT, hum, music, noises, level and line effects.

Used by bench/amd_corpus.py. Levels are dBFS of RMS (a full-scale sine is -3 dBFS) unless named
otherwise; `active_level` measures speech the way ITU-T P.56 means it, roughly: RMS over the 20 ms
frames within 25 dB of the loudest.
"""

from __future__ import annotations

import random

import numpy as np

from legato.media import g711

RATE = 8000
FULL = 32768.0


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64)


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x * x) / FULL**2 + 1e-20))


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """`x` scaled to an RMS of `dbfs`."""
    return x * 10 ** ((dbfs - rms_db(x)) / 20)


def active_level(x: np.ndarray) -> float:
    """Active speech level (dBFS): RMS over 20 ms frames within 25 dB of the loudest frame."""
    n = x.size // 160 * 160
    frames = x[:n].reshape(-1, 160)
    power = np.mean(frames * frames, axis=1) + 1e-9
    active = power[power >= power.max() * 10 ** -2.5]
    return float(10 * np.log10(active.mean() / FULL**2))


def sine(freq: float, ms: float, dbfs: float) -> np.ndarray:
    """A tone with 5 ms ramps; `dbfs` is its peak level."""
    t = np.arange(int(RATE * ms / 1000)) / RATE
    x = FULL * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    ramp = min(40, x.size // 4)
    x[:ramp] *= np.linspace(0, 1, ramp)
    x[-ramp:] *= np.linspace(1, 0, ramp)
    return x


def sit(dbfs: float) -> np.ndarray:
    return np.concatenate([sine(913.8, 274, dbfs), sine(1370.6, 274, dbfs), sine(1776.7, 380, dbfs)])


def hum(n: int, mains: float, dbfs: float) -> np.ndarray:
    t = np.arange(n) / RATE
    x = sum(np.sin(2 * np.pi * mains * k * t + k) / k for k in range(1, 12))
    return at_level(np.asarray(x), dbfs)


def music(ms: float, rng: random.Random, dbfs: float) -> np.ndarray:
    """Hold music at an RMS of `dbfs`: a plucked melody (harmonics, decaying) over a bass line and a
    soft sustained chord, at a tempo of 90-140 beats per minute."""
    n = int(RATE * ms / 1000)
    t = np.arange(n) / RATE
    root = rng.choice([196.0, 220.0, 246.9, 261.6, 293.7])
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    beat = 60.0 / rng.uniform(90, 140)
    out = 0.25 * sum(np.sin(2 * np.pi * root * 2 ** (k / 12) * t) for k in (0, 4, 7))  # the pad
    start = 0.0
    while start < t[-1]:
        length = beat * rng.choice([0.5, 1.0, 1.0, 2.0])
        f = root * 2 * 2 ** (rng.choice(steps) / 12)
        seg = (t >= start) & (t < start + length)
        u = t[seg] - start
        pluck = sum(np.sin(2 * np.pi * f * h * u) / h for h in (1, 2, 3)) * np.exp(-u * 4.0) * np.minimum(1, u / 0.005)
        out[seg] += pluck
        if int(start / beat) % 2 == 0:  # bass on every other beat
            out[seg] += 0.6 * np.sin(2 * np.pi * root / 2 * u) * np.exp(-u * 2.0)
        start += length
    return at_level(np.asarray(out), dbfs)


def white(n: int, gen: np.random.Generator) -> np.ndarray:
    return gen.normal(0, 1, n)


def pink(n: int, gen: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(gen.normal(0, 1, n))
    f = np.arange(spec.size)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    return np.fft.irfft(spec, n)


def street(n: int, gen: np.random.Generator) -> np.ndarray:
    """Traffic-like: brown rumble, pink hiss, and cars passing (slow swells) with the odd horn-free thump."""
    brown = np.cumsum(gen.normal(0, 1, n))
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")  # remove the drift below ~20 Hz
    base = brown / (brown.std() + 1e-9) + 0.5 * pink(n, gen) / (pink(n, gen).std() + 1e-9)
    t = np.arange(n) / RATE
    swell = np.ones(n)
    for _ in range(max(1, n // (RATE * 3))):
        centre, width = gen.uniform(0, t[-1] + 1e-9), gen.uniform(0.8, 2.0)
        swell += 3.0 * np.exp(-(((t - centre) / width) ** 2))
    return base * swell


def babble(n: int, voices: list[np.ndarray], gen: np.random.Generator) -> np.ndarray:
    """Several talkers at once: each voice looped from a random offset, equal levels."""
    out = np.zeros(n)
    for v in voices:
        v = v / (np.sqrt(np.mean(v * v)) + 1e-9)
        reps = np.tile(v, n // v.size + 2)
        start = int(gen.integers(0, v.size))
        out += reps[start:start + n]
    return out


def noise(kind: str, n: int, dbfs: float, gen: np.random.Generator, voices: list[np.ndarray]) -> np.ndarray:
    """`n` samples of noise `kind` (white, pink, babble, hum, street) at an RMS of `dbfs`."""
    if kind == "white":
        x = white(n, gen)
    elif kind == "pink":
        x = pink(n, gen)
    elif kind == "babble":
        x = babble(n, voices, gen)
    elif kind == "hum":
        return hum(n, float(gen.choice([50.0, 60.0])), dbfs) + at_level(white(n, gen), dbfs - 20)
    elif kind == "street":
        x = street(n, gen)
    else:
        raise ValueError(kind)
    return at_level(x, dbfs)


def g711_line(x: np.ndarray, codec: g711.Codec, loss: float, gen: np.random.Generator) -> np.ndarray:
    """A G.711 round trip in 20 ms packets; each packet lost with probability `loss` and concealed by
    repeating the last good packet, attenuated by 6 dB per repeat (a simple packet-loss concealment)."""
    pcm = g711.decode(codec, g711.encode(codec, to_pcm(x)))
    y = samples(pcm).copy()
    last = np.zeros(160)
    repeats = 0
    for off in range(0, y.size - 159, 160):
        if loss > 0 and gen.random() < loss:
            repeats += 1
            y[off:off + 160] = last * 0.5**repeats
        else:
            repeats = 0
            last = y[off:off + 160].copy()
    return y
