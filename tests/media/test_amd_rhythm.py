"""The greeting judge's rhythm rules: an early HUMAN after a short answer and a pause, an early MACHINE
on a greeting read without a pause. Fed 10 ms speech flags, so the figures are exact."""

from legato.domain.leg import AnsweredBy
from legato.media.amd_greeting import GreetingJudge
from legato.media.amd_params import AmdParams, AmdVerdict

RULES = AmdParams(short_answer_ms=500, short_answer_silence_ms=400, steady_greeting_ms=1800,
                  steady_pause_ms=150, greeting_ms=3500, after_greeting_silence_ms=700)


def judge(pattern: list[tuple[bool, int]], params: AmdParams = RULES) -> AmdVerdict | None:
    """Replay (speech?, ms) runs; the first verdict."""
    j = GreetingJudge(params)
    for speech, ms in pattern:
        for _ in range(ms // 10):
            if (v := j.step(speech, 30.0)) is not None:
                return v
    return None


def test_short_answer_then_pause_is_human_before_the_greeting_silence() -> None:
    v = judge([(False, 300), (True, 400), (False, 1000)])  # "Hello?" then the person waits
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.HUMAN, "SHORTANSWER")
    assert v.decision_ms == 300 + 400 + 400 and v.greeting_ms == 400
    off = judge([(False, 300), (True, 400), (False, 1000)], AmdParams(short_answer_ms=0))
    assert off is not None and off.reason == "HUMAN"
    assert off.decision_ms == 300 + 400 + AmdParams().after_greeting_silence_ms


def test_a_pause_after_a_longer_opening_waits_for_the_greeting_silence() -> None:
    # a 900 ms opening phrase then a 500 ms pause (a machine between sentences): not a short answer
    v = judge([(False, 200), (True, 900), (False, 500), (True, 3000)])
    assert v is not None and v.answered_by is AnsweredBy.MACHINE


def test_greeting_without_a_pause_is_machine_early() -> None:
    v = judge([(False, 200)] + [(True, 400), (False, 100)] * 8)  # words with 100 ms gaps only
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.MACHINE, "STEADYGREETING")
    assert v.greeting_ms == 1800 and v.decision_ms < 2500


def test_phrased_long_answer_is_not_cut_short() -> None:
    # a long human answer: phrases with 250 ms pauses, 2.9 s in all, then the person waits
    v = judge([(False, 300)] + [(True, 500), (False, 250)] * 3 + [(True, 650), (False, 1000)])
    assert v is not None and (v.answered_by, v.reason) == (AnsweredBy.HUMAN, "HUMAN")
    assert v.greeting_ms == 3 * 750 + 650
