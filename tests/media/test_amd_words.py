"""AMD's word evidence and its late beep: the detector asks for the greeting so far, and a machine's phrase
in the recogniser's reading of it is MACHINE before the greeting ends; an unsure HUMAN can be followed by
BEEP when the detector is told to listen on."""

from pathlib import Path

import pytest

from legato.domain.leg import AnsweredBy
from legato.media.amd import AmdDetector
from legato.media.amd_params import AmdParams, AmdVerdict
from legato.media.amd_words import machine_said, person_said
from legato.media.speech import synthesize
from legato.media.wavfile import read_pcm
from tests.media.signals import silence, tone

GREETING = "Hello, this is Mark. I'm not available, leave your name and number and I will call you back."


def greeting(tmp: Path) -> bytes:
    return silence(400) + read_pcm(synthesize(GREETING, tmp, voice="en-us", rate=160))


def feed_until_asked(det: AmdDetector, pcm: bytes) -> tuple[bytes, list[AmdVerdict], int]:
    """Feed 20 ms frames until the detector asks for words: (the audio it handed over, verdicts, bytes fed)."""
    verdicts: list[AmdVerdict] = []
    for off in range(0, len(pcm), 320):
        verdicts += det.feed(pcm[off:off + 320])
        if det.words_request is not None:
            return det.words_request, verdicts, off + 320
    raise AssertionError("no words request")


def test_a_machine_phrase_is_machine_before_the_greeting_ends(tmp_path: Path) -> None:
    det = AmdDetector(AmdParams())
    request, verdicts, fed = feed_until_asked(det, greeting(tmp_path))
    assert verdicts == []
    # from just before the first word, 1.25 s of greeting (words_ms) and the lead
    assert 1.25 <= len(request) / 16000 <= 1.25 + 0.2 + 0.03
    [v] = det.heard("hello this is mark i'm not available")
    assert (v.answered_by, v.reason) == (AnsweredBy.MACHINE, "WORDS")
    assert v.decision_ms == fed // 16 and 1250 <= v.greeting_ms <= 1300 and 0.5 < (v.confidence or 0) < 1
    assert det.heard("you have reached") == [] and not det.done  # one verdict; the beep is listened for
    beep = det.feed(silence(600) + tone(1000, 500, -12) + silence(800))
    assert [b.answered_by for b in beep] == [AnsweredBy.BEEP]


def test_a_person_s_words_leave_the_verdict_to_the_greeting_judge(tmp_path: Path) -> None:
    det = AmdDetector(AmdParams())
    feed_until_asked(det, greeting(tmp_path))
    assert det.heard("hello who is this") == [] and det.verdict is None
    assert not machine_said("you have reach") and machine_said("Hi You've Reached the smiths")
    assert person_said("ravi here go ahead") and not person_said("hello this is") and \
        not person_said("good morning you have reached")


def test_words_off_asks_nothing(tmp_path: Path) -> None:
    det = AmdDetector(AmdParams(words_ms=0))
    det.feed(greeting(tmp_path))
    assert det.words_request is None and det.verdict is not None


@pytest.mark.parametrize("after_human_ms", [0, 3000])
def test_a_beep_after_an_unsure_human_is_reported_only_when_asked(tmp_path: Path, after_human_ms: int) -> None:
    # a short greeting then a pause long enough for HUMAN, then its beep
    pcm = silence(400) + read_pcm(synthesize("Hey, it's Jen. Sorry I missed you.", tmp_path, rate=190))
    pcm += silence(900) + tone(1000, 500, -12) + silence(1500)
    params = AmdParams(words_ms=0, beep_after_human_ms=after_human_ms, beep_after_human_confidence=0.95)
    det = AmdDetector(params)
    verdicts = [v for off in range(0, len(pcm), 320) for v in det.feed(pcm[off:off + 320])]
    expected = [AnsweredBy.HUMAN, AnsweredBy.BEEP] if after_human_ms else [AnsweredBy.HUMAN]
    assert [v.answered_by for v in verdicts] == expected
    assert det.done


def answered(det: AmdDetector, pcm: bytes, readings: list[str]) -> list[AmdVerdict]:
    """Feed 20 ms frames, answering each words request with the next reading at once."""
    verdicts: list[AmdVerdict] = []
    for off in range(0, len(pcm), 320):
        verdicts += det.feed(pcm[off:off + 320])
        if det.words_request is not None:
            det.words_request = None
            verdicts += det.heard(readings.pop(0))
    return verdicts


@pytest.mark.parametrize(("late", "expected"), [("good morning how can i help", (AnsweredBy.HUMAN, "HUMAN")),
                                                ("hello the good", (AnsweredBy.MACHINE, "LONGGREETING")),
                                                ("go ahead leave a message", (AnsweredBy.MACHINE, "WORDS"))])
def test_a_person_s_phrase_read_late_gives_a_long_answer_time_to_end(
        tmp_path: Path, late: str, expected: tuple[AnsweredBy, str]) -> None:
    # 3.3 s of speech, then quiet: over the 3 s greeting limit, under it plus person_hold_ms
    pcm = greeting(tmp_path)[:(400 + 3300) * 16] + silence(1500)
    readings = ["hello", late]
    verdicts = answered(AmdDetector(AmdParams()), pcm, readings)
    assert readings == []  # asked twice: at words_ms and at words_late_ms of greeting
    assert (verdicts[0].answered_by, verdicts[0].reason) == expected
