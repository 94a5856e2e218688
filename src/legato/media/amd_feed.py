"""Feeding a leg's received audio to the AMD detector, with a deadline for a far end that sends nothing."""

from __future__ import annotations

from typing import Any

from legato.media.amd import AmdDetector
from legato.media.amd_params import AmdParams


class AmdFeed:
    """One detector run; returns verdicts as notification data (dicts)."""

    def __init__(self, params: AmdParams, now: float) -> None:
        self.detector = AmdDetector(params)
        # If the far end sends no audio at all, still give a verdict (frames never arrive to decide).
        self.deadline: float | None = now + (params.total_analysis_time_ms + 1000) / 1000

    @property
    def done(self) -> bool:
        return self.detector.done

    def feed(self, pcm: bytes) -> list[dict[str, Any]]:
        verdicts = [verdict.to_dict() for verdict in self.detector.feed(pcm)]
        if verdicts:
            self.deadline = None
        return verdicts

    def take_words(self) -> bytes | None:
        """The greeting so far when the detector wants the recogniser's reading of it (once)."""
        request, self.detector.words_request = self.detector.words_request, None
        return request

    def heard(self, text: str) -> list[dict[str, Any]]:
        """The recogniser's reading of the greeting: verdicts, as `feed`."""
        verdicts = [verdict.to_dict() for verdict in self.detector.heard(text)]
        if verdicts:
            self.deadline = None
        return verdicts

    def expire(self) -> tuple[list[dict[str, Any]], bool]:
        """The deadline passed: (verdicts, finished); stands in silence for the audio that never came."""
        self.deadline = None
        amd = self.detector
        if amd.verdict is not None:
            return [], False
        out: list[dict[str, Any]] = []
        missing = amd.params.total_analysis_time_ms - amd.elapsed_ms
        if missing > 0:
            out = self.feed(b"\x00\x00" * (missing * 8))
        if amd.done:
            return out, True
        if amd.verdict is None:
            out.append({"answered_by": str(amd.params.undecided), "reason": "NOAUDIO",
                        "decision_ms": amd.elapsed_ms, "initial_silence_ms": amd.elapsed_ms,
                        "greeting_ms": 0, "words": 0, "beep_hz": None, "beep_ms": None,
                        "confidence": 0.5})
            return out, True
        return out, False
