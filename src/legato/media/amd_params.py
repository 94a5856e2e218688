"""Answering-machine detection parameters and verdicts: plain data, shared by engine and client.

Two detectors share the parameters: `adaptive` (the default: per-call noise floor, 10 ms hops, see
amd_levels.py and amd_greeting.py) and `app_amd`, the fixed-threshold word counter of Asterisk's
app_amd (a reimplementation of its idea, not its code), kept as the anchor with app_amd's defaults.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from legato.domain.leg import AnsweredBy

DETECTORS = ("adaptive", "app_amd")


@dataclass(frozen=True, slots=True)
class AmdParams:
    """How the detector decides; configurable per account and per leg. Durations in ms."""

    # defaults: the adaptive detector's, chosen on the tune half of bench/amd_corpus.py (BENCHMARKS.md)
    initial_silence_ms: int = 2500
    greeting_ms: int = 3000
    greeting_syllables: int = 12  # LONGGREETING at greeting_ms needs this many syllables too (0: off), so a
    greeting_max_ms: int = 3500  # slow talker's long answer is not MACHINE; or the greeting runs this long
    after_greeting_silence_ms: int = 800
    total_analysis_time_ms: int = 5000
    minimum_word_length_ms: int = 100
    between_words_silence_ms: int = 50
    maximum_number_of_words: int = 0  # 0: no limit (words are counted and reported; greeting length decides)
    silence_threshold: int = 256  # app_amd only: mean absolute amplitude (16-bit) under which a frame is silence
    maximum_word_length_ms: int = 1000
    vad_aggressiveness: int = 2  # webrtcvad mode 0..3
    detect_beep: bool = True
    beep_timeout_ms: int = 30000  # how long to keep listening for a beep after MACHINE
    beep_after_human_ms: int = 10000  # and this long after a HUMAN verdict of confidence at most
    beep_after_human_confidence: float = 1.0  # this (a greeting ending in a beep, called HUMAN); 0 ms: off;
    # the media engine ends it early once it sends the leg audio (its echo could hold a tone)
    undecided: AnsweredBy = AnsweredBy.HUMAN  # verdict when total_analysis_time runs out
    detector: str = "adaptive"  # "adaptive" or "app_amd" (fixed threshold, 20 ms frames)
    speech_snr_db: int = 8  # adaptive: a hop starts speech this far above the call's noise floor
    hold_snr_db: int = 5  # adaptive: and stays speech while this far above it
    noise_window_ms: int = 1500  # adaptive: the noise floor is the quietest moment of this window
    short_answer_ms: int = 500  # HUMAN when a greeting at most this long (0: rule off) is followed by
    short_answer_silence_ms: int = 500  # this much silence (sooner than after_greeting_silence_ms)
    steady_greeting_ms: int = 1800  # MACHINE when the greeting runs this long (0: rule off) without
    steady_pause_ms: int = 150  # one pause of this length (a recording read in one breath)
    words_ms: int = 1250  # after this much greeting (0: off) the speech recogniser listens for a
    # machine's phrases in it (MACHINE, reason WORDS; amd_words.py)
    words_late_ms: int = 2500  # and once more after this much greeting (0: once only; words_ms 0: never)
    person_hold_ms: int = 750  # a person's phrase and no machine's in the latest reading: allow this much more
    # greeting before LONGGREETING, and no STEADYGREETING (amd_words.py)

    @classmethod
    def app_amd(cls) -> AmdParams:
        """Asterisk app_amd's algorithm and defaults: the anchor the adaptive detector is measured against."""
        return cls(detector="app_amd", initial_silence_ms=2500, greeting_ms=1500, after_greeting_silence_ms=800,
                   total_analysis_time_ms=5000, minimum_word_length_ms=100, between_words_silence_ms=50,
                   maximum_number_of_words=3, silence_threshold=256, maximum_word_length_ms=5000,
                   short_answer_ms=0, steady_greeting_ms=0, words_ms=0, words_late_ms=0,
                   greeting_syllables=0, greeting_max_ms=0, beep_after_human_ms=0)

    @classmethod
    def tuned(cls) -> AmdParams:
        """The adaptive detector with values chosen on the tune half of bench/amd_corpus.py (BENCHMARKS.md)."""
        return cls()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["undecided"] = str(self.undecided)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> AmdParams:
        """Build from a mapping, ignoring unknown keys; raises ValueError on bad values."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if "undecided" in kwargs:
            kwargs["undecided"] = AnsweredBy(kwargs["undecided"])
        params = cls(**kwargs)
        for f in fields(cls):
            value = getattr(params, f.name)
            if f.name.endswith(("_ms", "_db")) or f.name in ("maximum_number_of_words", "silence_threshold"):
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"{f.name} must be a non-negative integer")
        if not isinstance(params.beep_after_human_confidence, int | float) or \
                not 0 <= params.beep_after_human_confidence <= 1:
            raise ValueError("beep_after_human_confidence must be 0..1")
        if not 0 <= params.vad_aggressiveness <= 3:
            raise ValueError("vad_aggressiveness must be 0..3")
        if params.detector not in DETECTORS:
            raise ValueError(f"detector must be one of {', '.join(DETECTORS)}")
        return params


@dataclass(frozen=True, slots=True)
class AmdVerdict:
    """One verdict: HUMAN or MACHINE first, then possibly BEEP. Times are ms from the start of analysis."""

    answered_by: AnsweredBy
    reason: str
    decision_ms: int
    initial_silence_ms: int
    greeting_ms: int
    words: int
    beep_hz: float | None = None
    beep_ms: int | None = None
    confidence: float | None = None  # 0.5 (a guess) .. 1.0 (clear)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["answered_by"] = str(self.answered_by)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AmdVerdict:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["answered_by"] = AnsweredBy(kwargs["answered_by"])
        return cls(**kwargs)
