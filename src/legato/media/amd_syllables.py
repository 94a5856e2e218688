"""Syllable nuclei for AMD: peaks of the speech band's energy, so the greeting judge can tell a long answer
read slowly from a long recording.

A person's answer of four to eight words has about 6-14 syllables whatever their pace; a recorded greeting
has 20 or more. Greeting length in seconds mixes the two up for slow talkers (an eight-word answer at 125
words a minute runs past 3 s), a count of syllables less so. A nucleus is a local maximum of the band
energy (smoothed over 30 ms) during speech that stands `prominence_db` over the dips on both sides; it is
counted when the energy has fallen that far after it (30-100 ms late). Costs a few comparisons per 10 ms hop.
"""

from __future__ import annotations

from collections import deque


class SyllableCounter:
    """Fed the band energy (dBFS) and speech flag of each 10 ms hop; `step` is True on the hop a nucleus is
    confirmed."""

    def __init__(self, prominence_db: float = 4.0) -> None:
        self._prominence = prominence_db
        self._last: deque[float] = deque(maxlen=3)
        self._rising = True
        self._high = -200.0
        self._high_speech = False
        self._low = 200.0

    def step(self, energy_db: float, speech: bool) -> bool:
        self._last.append(energy_db)
        level = sum(self._last) / len(self._last)
        if self._rising:
            if level > self._high:
                self._high, self._high_speech = level, speech
            if self._high - level >= self._prominence:
                self._rising, self._low = False, level
                return self._high_speech
            return False
        self._low = min(self._low, level)
        if level - self._low >= self._prominence:
            self._rising, self._high, self._high_speech = True, level, speech
        return False
