"""Answering-machine detection parameters and verdicts: plain data, shared by engine and client.

The defaults are those of Asterisk's app_amd (this is a reimplementation of its idea, not its code).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from legato.domain.leg import AnsweredBy


@dataclass(frozen=True, slots=True)
class AmdParams:
    """How the detector decides; configurable per account and per leg. Durations in ms."""

    initial_silence_ms: int = 2500
    greeting_ms: int = 1500
    after_greeting_silence_ms: int = 800
    total_analysis_time_ms: int = 5000
    minimum_word_length_ms: int = 100
    between_words_silence_ms: int = 50
    maximum_number_of_words: int = 3
    silence_threshold: int = 256  # mean absolute amplitude (16-bit) under which a frame is silence
    maximum_word_length_ms: int = 5000
    vad_aggressiveness: int = 2  # webrtcvad mode 0..3
    detect_beep: bool = True
    beep_timeout_ms: int = 30000  # how long to keep listening for a beep after MACHINE
    undecided: AnsweredBy = AnsweredBy.HUMAN  # verdict when total_analysis_time runs out

    @classmethod
    def tuned(cls) -> AmdParams:
        """Values chosen on the tuning half of bench/amd_corpus.py (see BENCHMARKS) by a fixed rule: the
        smallest median verdict time among settings at least 98% correct. app_amd's defaults call
        three-word answers ("Hello, Maria speaking") machines; four words do not."""
        return cls(maximum_number_of_words=4, greeting_ms=2000, after_greeting_silence_ms=600)

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
            if f.name.endswith("_ms") or f.name in ("maximum_number_of_words", "silence_threshold"):
                if not isinstance(value, int) or value < 0:
                    raise ValueError(f"{f.name} must be a non-negative integer")
        if not 0 <= params.vad_aggressiveness <= 3:
            raise ValueError("vad_aggressiveness must be 0..3")
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
