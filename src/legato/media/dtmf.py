"""In-band DTMF detection: a Goertzel bank on 20 ms windows with a 10 ms hop.

A window holds a digit when one row and one column tone are each at least 8 dB over the other
tones of their group, the twist is within +4/-8 dB (column over row / row over column), both tones
are loud enough and carry most of the window's energy. A digit is reported after two consecutive
windows agree, and released after two windows without it.
"""

from __future__ import annotations

import numpy as np

from legato.media.g711 import SAMPLE_RATE

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
WINDOW = 160
HOP = 80

_n = np.arange(WINDOW)
_FREQS = np.array(ROWS + COLS)
_BASIS = np.exp(-2j * np.pi * np.outer(_FREQS, _n) / SAMPLE_RATE)  # (8, 160) exact-frequency Goertzel


def _db(x: float) -> float:
    return 10 ** (x / 10)


class DtmfDetector:
    """Streaming in-band DTMF detector over 8 kHz 16-bit linear PCM."""

    def __init__(self, min_level_dbfs: float = -40.0, group_margin_db: float = 8.0,
                 forward_twist_db: float = 4.0, reverse_twist_db: float = 8.0,
                 energy_fraction: float = 0.6) -> None:
        full_scale = 32768.0**2 / 2
        self._min_power = full_scale * _db(min_level_dbfs)
        self._margin = _db(group_margin_db)
        self._fwd = _db(forward_twist_db)
        self._rev = _db(reverse_twist_db)
        self._fraction = energy_fraction
        self._buf = np.zeros(0, dtype=np.float64)
        self._candidate: str | None = None
        self._hits = 0
        self._current: str | None = None
        self._misses = 0

    def classify(self, window: np.ndarray) -> str | None:
        """The digit one 160-sample window holds, or None."""
        spectrum = _BASIS @ window
        power = (spectrum.real**2 + spectrum.imag**2) * (2.0 / (WINDOW * WINDOW))
        rows, cols = power[:4], power[4:]
        r, c = int(np.argmax(rows)), int(np.argmax(cols))
        pr, pc = rows[r], cols[c]
        if pr < self._min_power or pc < self._min_power:
            return None
        if pc > pr * self._fwd or pr > pc * self._rev:
            return None
        if np.any(np.delete(rows, r) * self._margin > pr) or np.any(np.delete(cols, c) * self._margin > pc):
            return None
        total = float(np.dot(window, window)) / WINDOW
        if pr + pc < self._fraction * total:
            return None
        return KEYS[r][c]

    def feed(self, pcm: bytes) -> list[str]:
        """Feed linear PCM; returns the digits that began in it."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        self._buf = np.concatenate((self._buf, samples)) if self._buf.size else samples
        found: list[str] = []
        pos = 0
        while pos + WINDOW <= self._buf.size:
            digit = self.classify(self._buf[pos:pos + WINDOW])
            pos += HOP
            if digit is not None and digit == self._candidate:
                self._hits += 1
            else:
                self._candidate, self._hits = digit, (1 if digit else 0)
            if digit is None or digit != self._current:
                self._misses += 1
                if self._misses >= 2:
                    self._current = None
            else:
                self._misses = 0
            if self._hits >= 2 and self._candidate != self._current:
                self._current = self._candidate
                self._misses = 0
                found.append(self._candidate)  # type: ignore[arg-type]
        self._buf = self._buf[pos:]
        return found
