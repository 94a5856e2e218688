"""An energy-based endpointer: where speech starts in a stream of 16-bit PCM and when it has ended.

Frames of 20 ms are voiced when their RMS level is above both MIN_RMS and NOISE_RATIO x the noise floor
(a slow average of the unvoiced frames). Speech starts after START_FRAMES voiced frames in a row (so a
click does not start it) and ends after `silence` seconds with no voiced frame, or after `max_seconds`.
The collected audio keeps PRE_ROLL seconds before the start so the first syllable is not cut.
Pure: fed audio and the clock's `now`, it touches nothing.
"""

from __future__ import annotations

from enum import Enum

import numpy as np

FRAME_SECONDS = 0.02
MIN_RMS = 300.0  # about -41 dBFS: quieter is silence whatever the noise floor
NOISE_RATIO = 3.0
START_FRAMES = 4  # 80 ms of voice in a row
PRE_ROLL = 0.3
TRAIL_KEPT = 0.2  # seconds of the trailing silence kept after the last voiced frame


class Phase(Enum):
    WAITING = "waiting"
    SPEAKING = "speaking"
    DONE = "done"


def frame_levels(pcm: bytes, frame_samples: int) -> np.ndarray:
    """The RMS level of each whole frame of `frame_samples` 16-bit little-endian samples in `pcm`."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    frames = samples[: len(samples) // frame_samples * frame_samples].reshape(-1, frame_samples)
    return np.sqrt((frames * frames).mean(axis=1))


def audible(pcm: bytes, sample_rate: int) -> bool:
    """True when some 20 ms frame of `pcm` is louder than MIN_RMS (else there is nothing to recognise)."""
    levels = frame_levels(pcm, int(sample_rate * FRAME_SECONDS))
    return bool(len(levels)) and float(levels.max()) > MIN_RMS


class Endpointer:
    """Finds one utterance: WAITING until speech starts, SPEAKING until it ends, then DONE."""

    def __init__(self, sample_rate: int, silence: float, max_seconds: float, now: float) -> None:
        self.rate = sample_rate
        self.silence = silence
        self.max_seconds = max_seconds
        self.frame_bytes = int(sample_rate * FRAME_SECONDS) * 2
        self.phase = Phase.WAITING
        self.noise = MIN_RMS / NOISE_RATIO
        self.started_at: float | None = None
        self.last_voice = now
        self._pending = bytearray()  # less than a frame not yet judged
        self._audio = bytearray()  # pre-roll while waiting, then the utterance
        self._run = 0  # voiced frames in a row
        self._voiced_end = 0  # bytes of _audio up to the last voiced frame
        self.loudest = 0.0  # the RMS level of the loudest frame the last `feed` completed (0: none)

    @property
    def deadline(self) -> float | None:
        """When the utterance ends if nothing more is heard (None while waiting or once done)."""
        if self.phase is not Phase.SPEAKING or self.started_at is None:
            return None
        return min(self.last_voice + self.silence, self.started_at + self.max_seconds)

    def feed(self, pcm: bytes, now: float) -> Phase:
        """Audio heard at `now` (any length); returns the phase after it."""
        if self.phase is Phase.DONE:
            return self.phase
        self._pending += pcm
        size = self.frame_bytes
        whole = bytes(self._pending[: len(self._pending) // size * size])
        del self._pending[: len(whole)]
        levels = frame_levels(whole, size // 2)  # one RMS pass per frame, for the caller too (`loudest`)
        self.loudest = float(levels.max()) if len(levels) else 0.0
        for i, level in enumerate(levels.tolist()):
            if self.phase is Phase.DONE:
                break
            self._frame(whole[i * size : (i + 1) * size], level, now)
        return self.phase

    def _frame(self, frame: bytes, level: float, now: float) -> None:
        voiced = level > max(MIN_RMS, self.noise * NOISE_RATIO)
        self._audio += frame
        if self.phase is Phase.WAITING:
            self._run = self._run + 1 if voiced else 0
            if not voiced:
                self.noise = 0.95 * self.noise + 0.05 * level
            keep = int(PRE_ROLL * self.rate) * 2 + self._run * self.frame_bytes
            if len(self._audio) > keep:
                del self._audio[: len(self._audio) - keep]
            if self._run >= START_FRAMES:
                self.phase, self.started_at, self.last_voice = Phase.SPEAKING, now, now
                self._voiced_end = len(self._audio)
            return
        if voiced:
            self.last_voice = now
            self._voiced_end = len(self._audio)
        self.check(now)

    def check(self, now: float) -> Phase:
        """Apply the clock: end the utterance when its silence or length limit has passed."""
        deadline = self.deadline
        if deadline is not None and now >= deadline:
            self.phase = Phase.DONE
        return self.phase

    @property
    def audio(self) -> bytes:
        """The utterance (with its pre-roll and TRAIL_KEPT s of the silence after it)."""
        end = min(len(self._audio), self._voiced_end + int(TRAIL_KEPT * self.rate) * 2)
        return bytes(self._audio[:end])
