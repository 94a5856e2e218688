"""Beep detection: an FFT tone tracker that reports an isolated steady tone once it has ended.

A 40 ms Hann window (the last two 20 ms frames, 25 Hz bins) is tonal when at least 90% of its
energy lies within +/-2 bins of one peak between 350 and 2000 Hz and it is loud enough, once the
line's noise spectrum (learned from the last second's non-tonal windows) is taken off. Tonal
windows whose frequency stays within +/-25 Hz form a segment. A segment of 200 ms to 5 s is a beep
when it stands alone: no other tonal segment ended shortly before it, the 180 ms before it and the
200 ms after it are at least 12 dB quieter than the tone, and no tone starts right after it. This
rejects SIT tone triplets and note sequences (music); continuous hums never end and are never
reported; hum harmonics and voiced speech fail the energy concentration test. Optionally (the
adaptive AMD) a tone `under_talker_db` or more under the loudest recent non-tonal frame (the greeting's
voice) is a music bed's note, not a beep; with `tone_levels` a tone's level is its own spectral power and
the sound around it is what stands `noise_margin` times over the line's noise mean, so levels hold in
loud noise (where a frame energy minus the noise's minimum is mostly the noise). Under babble (which no
noise spectrum takes off) a beep's windows are often only 70-90% tonal: with `weak_concentration` such a
window goes on a tone that started at the full concentration when it is at its frequency and within
`weak_level_db` of its loudest window, and a steady run of them just before a tone's start was its onset;
with `long_tone_ms` a tone at least that long needs no quiet before and after it, only to stand alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from legato.media.g711 import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE

WINDOW = 2 * FRAME_SAMPLES
BIN_HZ = SAMPLE_RATE / WINDOW  # 25 Hz
_HANN = np.hanning(WINDOW)
_BED_RATIO = 10 ** (-6 / 10)  # an earlier tone 6 dB or more below this one is background, not a neighbour
_TALKER_FADE = 10 ** (-2 / 10 * FRAME_MS / 1000)  # the greeting's loudest frame fades by 2 dB/s
_TO_MEAN_SQUARE = 2 / (WINDOW**2 * float(np.mean(_HANN**2)))  # a one-sided Hann periodogram's sum -> mean square


@dataclass(frozen=True, slots=True)
class Beep:
    """A detected beep: its frequency, its length and when it ended (ms from the detector's start)."""

    frequency_hz: float
    duration_ms: int
    end_ms: int
    reported_ms: int


@dataclass(slots=True)
class _Segment:
    start_ms: int
    frequency: float
    frames: int = 1
    dropouts: int = 0
    peak: float = 0.0  # the loudest window's tone
    energy: float = 0.0  # sum of frame energies
    before: float = 0.0  # loudest frame energy in the 180 ms before the tone


class BeepDetector:
    """Streaming beep detector over 8 kHz linear PCM in 20 ms frames."""

    def __init__(self, low_hz: float = 350.0, high_hz: float = 2000.0, concentration: float = 0.9,
                 stability_hz: float = 25.0, min_ms: int = 200, max_ms: int = 5000,
                 min_level_dbfs: float = -45.0, isolation_before_ms: int = 800,
                 quiet_after_ms: int = 200, tonal_neighbour_ms: int = 100, quiet_db: float = 12.0,
                 noise_quantile: float | None = None, over_subtraction: float = 1.0,
                 under_talker_db: float | None = None, tone_levels: bool = False,
                 noise_margin: float = 1.5, steady_frames: int = 3, weak_concentration: float | None = None,
                 weak_level_db: float = 3.0, long_tone_ms: int | None = None) -> None:
        self._lo = int(np.ceil(low_hz / BIN_HZ))
        self._hi = int(high_hz / BIN_HZ)
        self._concentration = concentration
        # a window only `weak_concentration` tonal (babble over a beep) goes on a tone that started at the full
        # concentration, within `weak_level_db` of its loudest window, or was that tone's onset (see _step)
        self._weak = concentration if weak_concentration is None else weak_concentration
        self._weak_level = 10 ** (-weak_level_db / 10)  # a weak window's tone at most this far under the tone's
        self._strong = False  # the last tonal window was at the full concentration
        self._lead_hz: tuple[float, float] | None = None  # the last window was weakly tonal alone: (Hz, power)
        self._lead: tuple[int, float, float, float] | None = None  # the weakly tonal run so far: start ms, Hz,
        # its quietest and loudest window's tone (a steady tone's onset, not a note's decay)
        self._stability = stability_hz
        # a steady tone this long needs no quiet before and after it (babble, loud noise), only to stand alone
        self._long_ms = long_tone_ms or 10**9
        self._min_ms, self._max_ms = min_ms, max_ms
        self._min_power = (32768.0 * 10 ** (min_level_dbfs / 20)) ** 2
        self._isolation = isolation_before_ms
        self._quiet_after = quiet_after_ms
        self._neighbour = tonal_neighbour_ms
        self._quiet_ratio = 10 ** (-quiet_db / 10)
        self._quantile = noise_quantile
        self._over = over_subtraction
        self._under_talker = None if under_talker_db is None else 10 ** (-under_talker_db / 10)
        self._tone_levels = tone_levels
        self._steady_frames = steady_frames  # tonal windows after which up to two odd ones are tolerated
        self._noise_margin = noise_margin
        self._noise_mean = 0.0  # mean square of the line's noise, from its spectrum (tone_levels)
        self._tone_power = 0.0  # mean square of the last tonal window's tone, noise taken off
        self.talker_energy = 0.0  # the loudest non-tonal frame lately (the greeting), fading 2 dB/s
        self._energies: deque[tuple[int, float]] = deque(maxlen=16)  # (frame end ms, mean square)
        self._spectra = np.full((50, WINDOW // 2 + 1), np.inf)  # the last second's non-tonal spectra
        self._learned = 0
        self._noise_psd = np.zeros(WINDOW // 2 + 1)
        self._recent_energy: deque[float] = deque(maxlen=50)
        self.noise_energy = 0.0  # mean square of the line's noise (the quietest frame of the last second)
        self._last_tonal_level = 0.0
        self._prev = np.zeros(FRAME_SAMPLES)
        self._pending_pcm = b""
        self.now_ms = 0
        self._segment: _Segment | None = None
        self._last_tonal_end = -10**9  # end of the last segment long enough to count as a neighbour
        self._candidate: tuple[_Segment, int, float] | None = None  # (segment, end_ms, level)

    def frequency(self, window: np.ndarray, learn: bool = True) -> float | None:
        """The tone frequency of a 320-sample window, or None when it is not a single loud tone. The line's
        noise spectrum (learned from the last second, bin by bin) is taken off first, so a tone in
        steady noise is judged on its own; a window that is not a tone teaches it when `learn`."""
        x = window - window.mean()
        spec = np.fft.rfft(x * _HANN)
        raw = spec.real**2 + spec.imag**2
        freq = self._tone(x, raw)
        if freq is None and learn:  # only what is not a tone teaches the noise spectrum (a steady tone never)
            self._spectra[self._learned % len(self._spectra)] = raw
            self._learned += 1
            if self._learned >= 10 and self._learned % 5 == 0:
                self._noise_psd = self._noise_estimate(self._spectra[: self._learned])
                self._noise_mean = float(self._noise_psd.sum()) * _TO_MEAN_SQUARE / max(self._over, 1.0)
        return freq

    def _noise_estimate(self, spectra: np.ndarray) -> np.ndarray:
        """The line's noise spectrum from the last second's non-tonal spectra: the minimum, doubled; or,
        with `noise_quantile` q, that quantile bin by bin scaled to the mean (a noise bin's power is
        exponentially distributed: its q-quantile is -ln(1 - q) times its mean) and by `over_subtraction`
        (so the noise's own swings above its mean do not dilute a tone's share)."""
        if self._quantile is None:
            return spectra.min(axis=0) * 2.0
        q = self._quantile
        return np.quantile(spectra, q, axis=0) * (self._over / -np.log1p(-q))

    def _tone(self, x: np.ndarray, raw: np.ndarray) -> float | None:
        if float(np.dot(x, x)) / WINDOW < self._min_power:
            return None
        power = np.maximum(raw - self._noise_psd, 0.0)
        total = float(power.sum())
        if total <= 0:
            return None
        k = self._lo + int(np.argmax(power[self._lo:self._hi + 1]))
        peak = float(power[k - 2:k + 3].sum())
        self._strong = peak >= self._concentration * total
        weak = not self._strong and peak >= self._weak * total
        if weak and not self._holds(k * BIN_HZ, peak * _TO_MEAN_SQUARE):
            self._lead_hz = (k * BIN_HZ, peak * _TO_MEAN_SQUARE)  # maybe a tone's onset under babble
            return None
        if not self._strong and not weak:
            return None
        self._tone_power = peak * _TO_MEAN_SQUARE
        a, b, c = np.log(power[k - 1:k + 2] + 1e-9)
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
        return float((k + shift) * BIN_HZ)

    def _holds(self, freq: float, power: float) -> bool:
        """A weakly tonal window goes on the current tone: the same frequency, about its level."""
        seg = self._segment
        return seg is not None and abs(freq - seg.frequency) <= self._stability + BIN_HZ and \
            power >= seg.peak * self._weak_level

    def feed(self, pcm: bytes) -> list[Beep]:
        """Feed linear PCM (any length); returns beeps confirmed in it."""
        data = self._pending_pcm + pcm
        step = FRAME_SAMPLES * 2
        usable = len(data) - len(data) % step
        self._pending_pcm = data[usable:]
        beeps: list[Beep] = []
        for off in range(0, usable, step):
            frame = np.frombuffer(data[off:off + step], dtype="<i2").astype(np.float64)
            beep = self._step(frame)
            if beep is not None:
                beeps.append(beep)
        return beeps

    def _step(self, frame: np.ndarray) -> Beep | None:
        self.now_ms += FRAME_MS
        raw_energy = float(np.dot(frame, frame)) / frame.size
        # with a quantile estimate only frames near the line's noise teach it (speech would be taken off too)
        learn = self._quantile is None or raw_energy <= 4 * self.noise_energy
        freq = self.frequency(np.concatenate((self._prev, frame)), learn)
        self._prev = frame
        lead, self._lead_hz = self._lead_hz, None
        if freq is None and lead is None:
            self._lead = None
        elif freq is None and (self._lead is None or abs(lead[0] - self._lead[1]) > self._stability + BIN_HZ):
            self._lead = (self.now_ms, lead[0], lead[1], lead[1])
        elif freq is None and self._lead is not None:  # its quietest and loudest window
            self._lead = (self._lead[0], self._lead[1], min(self._lead[2], lead[1]), max(self._lead[3], lead[1]))
        self.talker_energy *= _TALKER_FADE
        if freq is None:
            self.talker_energy = max(self.talker_energy, raw_energy)
            self._recent_energy.append(raw_energy)
            self.noise_energy = min(self._recent_energy) * 1.5
        if self._tone_levels:  # what stands above the line's noise (its mean, from its spectrum)
            energy = max(raw_energy - self._noise_margin * self._noise_mean, 0.0)
        else:  # what stands above the line's noise; frames within 6 dB of it are the noise itself
            energy = raw_energy - self.noise_energy if raw_energy > 4 * self.noise_energy else 0.0
        # a segment's level: its tone alone (tone_levels) or all it holds above the noise
        level = self._tone_power if self._tone_levels and freq is not None else energy
        self._energies.append((self.now_ms, energy))
        seg = self._segment
        if seg is not None and freq is not None and abs(freq - seg.frequency) <= self._stability:
            seg.frames += 1
            seg.dropouts = 0
            seg.frequency += (freq - seg.frequency) / seg.frames
            seg.energy += level
            seg.peak = max(seg.peak, level)
        elif seg is not None and freq is None and seg.dropouts < 2 and seg.frames >= self._steady_frames:
            seg.dropouts += 1  # tolerate up to two odd windows inside a tone (noise, a lost packet)
        else:
            if seg is not None:
                self._close(seg)
            self._segment = None
            if freq is not None and self._strong:  # a tone starts at the full concentration
                start, onset = self.now_ms, 0
                if self._lead is not None and abs(freq - self._lead[1]) <= self._stability + BIN_HZ and \
                        self._lead[2] >= max(self._lead[3], self._tone_power) * self._weak_level:
                    onset = (self.now_ms - self._lead[0]) // FRAME_MS  # the weakly tonal windows just before
                    start = self._lead[0]  # it were its onset (under babble)
                self._lead = None
                before = [e for t, e in self._energies if start - 220 < t <= start - 40]
                self._segment = _Segment(start, freq, frames=1 + onset, energy=level * (1 + onset),
                                         before=max(before, default=0.0), peak=level)
        return self._check_candidate(energy)

    def _close(self, seg: _Segment) -> None:
        end_ms = self.now_ms - FRAME_MS * (1 + seg.dropouts)
        length = seg.frames * FRAME_MS
        if self._candidate is not None and length >= self._neighbour:
            self._candidate = None  # another tone right after: a sequence, not a beep
        level = seg.energy / seg.frames
        quiet_before = seg.before <= level * self._quiet_ratio or length >= self._long_ms
        # a tone soon after another of like level is a note sequence (music, SIT); a much quieter one
        # before it (a music bed under the greeting) does not count
        alone = (seg.start_ms - self._last_tonal_end >= self._isolation
                 or self._last_tonal_level <= level * _BED_RATIO)
        # a tone far under the greeting's voice is a music bed's note, not a beep (when under_talker_db is set)
        heard = self._under_talker is None or level + self.noise_energy >= self.talker_energy * self._under_talker
        if self._min_ms <= length <= self._max_ms and quiet_before and alone and heard:
            self._candidate = (seg, end_ms, level)
        if length >= self._neighbour:
            self._last_tonal_end, self._last_tonal_level = end_ms, level

    def _check_candidate(self, energy: float) -> Beep | None:
        if self._candidate is None:
            return None
        seg, end_ms, level = self._candidate
        current = self._segment
        loud = self.now_ms > end_ms + FRAME_MS and energy > level * self._quiet_ratio and \
            seg.frames * FRAME_MS < self._long_ms
        if loud or (current is not None and current.frames * FRAME_MS >= self._neighbour):
            self._candidate = None
            return None
        if self.now_ms - end_ms < self._quiet_after:
            return None
        self._candidate = None
        return Beep(round(float(seg.frequency), 1), seg.frames * FRAME_MS + FRAME_MS, end_ms, self.now_ms)
