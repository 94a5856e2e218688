"""The recogniser interface every speech engine implements, and the input rules they share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_HINTS = 500  # as Twilio's <Gather hints>
MAX_HINT_CHARS = 100
DEFAULT_LANGUAGE = "en-US"
_WORD = re.compile(r"[a-z0-9']+")


class SpeechInputError(ValueError):
    """Bad input to a recogniser (unsupported language or sample rate, too many hints)."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """What was said: lower-case words separated by single spaces ('' when nothing was recognised)."""

    text: str
    confidence: float  # 0..1: the engine's posterior probability of `text`

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "confidence": round(self.confidence, 4)}


class Recogniser(Protocol):
    """A speech engine. `recognise` must not block the caller's loop (engines run decoding elsewhere)."""

    name: str

    async def recognise(
        self, pcm16: bytes, sample_rate: int, hints: Sequence[str] = (), language: str = DEFAULT_LANGUAGE,
        hints_only: bool = False,
    ) -> Recognition:
        """Recognise mono 16-bit little-endian PCM; `hints` (words or phrases likely said) bias the result
        (`hints_only`: the answer is made of the hint phrases alone, a quick phrase spotter)."""

    def prepare(self) -> None:
        """Start the engine's workers and load its model in the background, ahead of the first recognise."""

    async def close(self) -> None:
        """Free the engine's workers."""


def normalise_hints(hints: Sequence[str] | str | None) -> tuple[str, ...]:
    """Hints as lower-case phrases of words (a comma-separated string is split); SpeechInputError if too many."""
    if hints is None:
        return ()
    items = hints.split(",") if isinstance(hints, str) else list(hints)
    if len(items) > MAX_HINTS:
        raise SpeechInputError(f"at most {MAX_HINTS} hints")
    phrases: list[str] = []
    for item in items:
        if len(item) > MAX_HINT_CHARS:
            raise SpeechInputError(f"each hint is at most {MAX_HINT_CHARS} characters")
        words = _WORD.findall(item.lower())
        phrase = " ".join(words)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return tuple(phrases)
