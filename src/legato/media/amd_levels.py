"""Level- and noise-robust speech activity for AMD: 10 ms hops, an adaptive noise floor per call.

Every 10 ms the analyser looks at the last 20 ms (Hann window, 256-point FFT) and measures the energy in
the telephone speech band (250-3500 Hz, so mains hum's fundamental does not count), the band's spectral
flatness (white and pink noise are flat, speech is not) and the voicing (peak of the normalised
autocorrelation at pitch lags). The noise floor is the minimum of the smoothed band energy over the
last `noise_window_ms` (minimum statistics), seeded from the first frames and following the line as it
changes, so the speech threshold sits `speech_snr_db` above whatever the line carries: quiet talkers are
heard and steady noise is not speech. A hop is speech when it is that far above the floor and sounds
like speech (webrtcvad on the gain-normalised hop, or clearly voiced, and not flat); it stays speech
while it is `hold_snr_db` above the floor (hysteresis). The floor drops at once but rises slowly (a
sound starting mid-call is heard before it becomes the floor); the bar rises with the noise's usual
swing (babble, traffic), and once the talker has been heard, sounds far below their recent peak are
not speech (background talk). Speech must also stand above the usual level of the line's non-speech
hops (babble sits well above its own quietest moments, which set the floor). Hops are 10 ms, half a frame, so word
boundaries move by at most 10 ms with the frame phase instead of 20.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from dataclasses import dataclass

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import webrtcvad

from legato.media.g711 import SAMPLE_RATE

HOP = SAMPLE_RATE // 100  # 80 samples, 10 ms
HOP_MS = 10
_WINDOW = 2 * HOP
_NFFT = 256
_HANN = np.hanning(_WINDOW)
_BAND = slice(int(250 * _NFFT / SAMPLE_RATE), int(3500 * _NFFT / SAMPLE_RATE) + 1)
_FULL_POWER = (32768.0**2) * float(np.sum(_HANN**2)) * _NFFT / 2  # a full-scale sine's band power, roughly
_LAGS = slice(SAMPLE_RATE // 400, SAMPLE_RATE // 60 + 1)  # pitch 60..400 Hz
_VAD_TARGET_DB = -26.0  # hops are scaled so that speech reaches webrtcvad near this level
_SWING = 1.5  # the speech bar rises by this many times the noise's usual swing above its floor
_TALKER_ONSET_DB = 22.0  # speech starts within this range under the talker's peak (background talk does not)
_TALKER_HOLD_DB = 28.0  # and goes on within this range
_TALKER_DECAY_DB = 0.02  # per hop: the talker's peak fades by 2 dB/s
_MAX_SWING_DB = 8.0
_FLOOR_RISE_DB = 0.1  # per 10 ms hop once seeded (10 dB/s)
_SEED_HOPS = 30  # the first 300 ms set the floor freely
_LOWEST_FLOOR_DB = -72.0  # below this the line is silent whatever the codec leaves (A-law's +-8)
_BACKGROUND_ONSET_DB = 8.0  # speech starts this far above the usual level of the line's non-speech (0: off)
_BACKGROUND_HOLD_DB = 5.0  # and goes on this far above it
_BACKGROUND_RATE = 0.05  # per hop: how fast that level follows the non-speech hops


@dataclass(frozen=True, slots=True)
class Hop:
    """What one 10 ms hop sounded like."""

    speech: bool
    energy_db: float  # band energy, dBFS
    floor_db: float  # the noise floor under it, dBFS
    flatness: float  # 0 (a tone) .. 1 (white noise)


class LineAnalyzer:
    """Feed 10 ms hops of 8 kHz 16-bit PCM (as int16 arrays); returns one `Hop` each."""

    def __init__(self, speech_snr_db: float = 8.0, hold_snr_db: float = 5.0, noise_window_ms: int = 1500,
                 vad_aggressiveness: int = 2, max_flatness: float = 0.45, voiced: float = 0.55) -> None:
        self._on, self._hold = speech_snr_db, hold_snr_db
        self._max_flat, self._voiced = max_flatness, voiced
        self._vad = webrtcvad.Vad(vad_aggressiveness)
        self._recent: deque[float] = deque(maxlen=max(1, noise_window_ms // HOP_MS))
        self._prev = np.zeros(HOP)
        self._prev2 = np.zeros(HOP)
        self._smooth: float | None = None
        self._speaking = False
        self.floor_db = -90.0
        self.swing_db = 3.0  # how far non-speech usually sits above the floor
        self.peak_db = -90.0  # loudest speech hop so far
        self.talker_db = -200.0  # the talker's recent peak, fading slowly
        self.hops = 0
        self.background_db: float | None = None  # the usual level of non-speech hops (babble sits well above
        # its own quietest moments, which set the floor)

    def snr_db(self) -> float:
        """How far the loudest speech so far stood above the noise floor."""
        return max(0.0, self.peak_db - self.floor_db)

    def step(self, hop: np.ndarray) -> Hop:
        """Analyse one hop of HOP int16 samples."""
        x = hop.astype(np.float64)
        window = np.concatenate((self._prev, x))
        spec = np.fft.rfft((window - window.mean()) * _HANN, _NFFT)
        power = (spec.real**2 + spec.imag**2)[_BAND] + 1e-3
        band = float(power.sum())
        energy = 10 * math.log10(band / _FULL_POWER + 1e-12)
        flatness = float(np.exp(np.mean(np.log(power))) / np.mean(power))
        self._smooth = energy if self._smooth is None else 0.5 * self._smooth + 0.5 * energy
        self._recent.append(self._smooth)
        lowest = max(min(self._recent) + 1.0, _LOWEST_FLOOR_DB)
        # the floor drops at once but rises slowly: a sound that starts mid-call (music, a greeting) is
        # heard for a while before it counts as the line's noise; noise there from the start is the floor
        rise = _FLOOR_RISE_DB if self.hops > _SEED_HOPS else 100.0
        self.floor_db = min(lowest, self.floor_db + rise)
        self.hops += 1
        margin = energy - self.floor_db
        # fluctuating noise (babble, traffic) rises above its own floor: raise the bar by its usual swing,
        # and once the talker has been heard, ignore what is far below them
        bar = self._on + _SWING * self.swing_db
        talker = self.talker_db = self.talker_db - _TALKER_DECAY_DB
        background = energy if self.background_db is None else self.background_db
        if self._speaking:
            speech = margin >= self._hold + _SWING * self.swing_db and energy >= talker - _TALKER_HOLD_DB \
                and (not _BACKGROUND_HOLD_DB or energy >= background + _BACKGROUND_HOLD_DB)
        else:
            speech = (margin >= bar and energy >= talker - _TALKER_ONSET_DB and flatness <= self._max_flat
                      and (not _BACKGROUND_ONSET_DB or energy >= background + _BACKGROUND_ONSET_DB)
                      and self._sounds_like_speech(x, energy))
        if not speech:
            self.background_db = background + _BACKGROUND_RATE * (energy - background)
            if margin < self._on:
                self.swing_db += 0.05 * (min(margin, _MAX_SWING_DB) - self.swing_db)
        self._speaking = speech
        if speech:
            self.peak_db = max(self.peak_db, energy)
            self.talker_db = max(self.talker_db, energy)
        self._prev2, self._prev = self._prev, x
        return Hop(speech, energy, self.floor_db, flatness)

    def _sounds_like_speech(self, x: np.ndarray, energy_db: float) -> bool:
        gain = min(10 ** ((_VAD_TARGET_DB - energy_db) / 20), 100.0)
        scaled = np.clip(x * gain, -32768, 32767).astype("<i2").tobytes()
        return self._vad.is_speech(scaled, SAMPLE_RATE) or self._voicing(x) >= self._voiced

    def _voicing(self, x: np.ndarray) -> float:
        """Peak normalised autocorrelation at pitch lags over the last 30 ms."""
        w = np.concatenate((self._prev2, self._prev, x))
        w = w - w.mean()
        spec = np.fft.rfft(w, 2 * w.size)
        ac = np.fft.irfft(spec.real**2 + spec.imag**2)[: w.size]
        if ac[0] <= 0:
            return 0.0
        lags = ac[_LAGS] / (ac[0] * (1 - np.arange(_LAGS.start, _LAGS.stop) / w.size))
        return float(max(0.0, lags.max()))
