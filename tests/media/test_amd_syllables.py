"""Syllables for the greeting judge: a slow talker's long answer is not cut off at the greeting limit, a
recording with as many syllables in as long a time is; energy contours and flags are exact."""

import math

from legato.domain.leg import AnsweredBy
from legato.media.amd_greeting import GreetingJudge
from legato.media.amd_params import AmdParams, AmdVerdict
from legato.media.amd_syllables import SyllableCounter


def contour(syllables: int, syllable_ms: int, gap_ms: int) -> list[tuple[float, bool]]:
    """(energy dBFS, speech) per 10 ms hop: syllables as 12 dB swells over -40 dBFS, words run together."""
    hops = []
    for _ in range(syllables):
        n = syllable_ms // 10
        hops += [(-40.0 + 12.0 * math.sin(math.pi * (i + 0.5) / n), True) for i in range(n)]
        hops += [(-60.0, False)] * (gap_ms // 10)
    return hops


def test_counts_one_nucleus_per_syllable() -> None:
    counter = SyllableCounter()
    hops = [(-60.0, False)] * 20 + contour(7, 200, 0) + [(-60.0, False)] * 30
    assert sum(counter.step(e, s) for e, s in hops) == 7


def test_small_wobbles_are_not_syllables() -> None:
    counter = SyllableCounter()
    hops = [(-40.0 + (2.0 if i % 6 < 3 else 0.0), True) for i in range(200)]
    assert sum(counter.step(e, s) for e, s in hops) == 0


def judge(hops: list[tuple[float, bool]], params: AmdParams) -> AmdVerdict | None:
    j, counter = GreetingJudge(params), SyllableCounter()
    for energy, speech in [(-60.0, False)] * 30 + hops + [(-60.0, False)] * 150:
        if (v := j.step(speech, 30.0, counter.step(energy, speech))) is not None:
            return v
    return None


def test_a_slow_answer_of_few_syllables_runs_past_the_greeting_limit() -> None:
    # ten syllables with short pauses (3.4 s, about 8 words at 125 words a minute), then the person waits
    v = judge(contour(10, 200, 160), AmdParams(words_ms=0))
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.HUMAN, "HUMAN")
    assert v.greeting_ms == 10 * 200 + 9 * 160
    off = judge(contour(10, 200, 160), AmdParams(words_ms=0, greeting_syllables=0))
    assert off is not None and (off.answered_by, off.reason) == (AnsweredBy.MACHINE, "LONGGREETING")


def test_a_greeting_with_many_syllables_is_machine_at_the_limit() -> None:
    v = judge(contour(24, 120, 60), AmdParams(words_ms=0, steady_greeting_ms=0))
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.MACHINE, "LONGGREETING")
    assert v.greeting_ms == AmdParams().greeting_ms


def test_a_slow_greeting_that_goes_on_is_machine_at_the_longest_limit() -> None:
    v = judge(contour(14, 200, 160), AmdParams(words_ms=0, greeting_syllables=30))
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.MACHINE, "LONGGREETING")
    assert AmdParams().greeting_max_ms <= v.greeting_ms <= AmdParams().greeting_max_ms + 160  # at its next syllable
