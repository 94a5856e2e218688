from pathlib import Path

import pytest

from legato.domain.leg import AnsweredBy
from legato.media.amd import AmdDetector, WordCounter
from legato.media.amd_params import AmdParams, AmdVerdict
from legato.media.speech import synthesize
from legato.media.wavfile import read_pcm
from tests.media.signals import add, noise, silence, sit, tone

MACHINE_TEXT = ("Hi, you have reached the Johnson family. We can't come to the phone right now, "
                "please leave a message after the tone.")


def run(pcm: bytes, params: AmdParams | None = None) -> list[AmdVerdict]:
    det = AmdDetector(params)
    return [v for i in range(0, len(pcm), 320) for v in det.feed(pcm[i:i + 320])]


def speech(text: str, tmp: Path, voice: str = "en-us", rate: int = 160) -> bytes:
    return read_pcm(synthesize(text, tmp, voice=voice, rate=rate))


def test_defaults_are_app_amd_defaults() -> None:
    p = AmdParams()
    assert (p.initial_silence_ms, p.greeting_ms, p.after_greeting_silence_ms, p.total_analysis_time_ms,
            p.minimum_word_length_ms, p.between_words_silence_ms, p.maximum_number_of_words,
            p.silence_threshold, p.maximum_word_length_ms) == (2500, 1500, 800, 5000, 100, 50, 3, 256, 5000)
    assert AmdParams.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError):
        AmdParams.from_dict({"greeting_ms": -1})


def test_word_counter_rules() -> None:
    wc = WordCounter(AmdParams())
    flags = [False] * 10 + [True] * 20 + [False] * 40  # 200 ms silence, 400 ms word, then silence
    verdicts = [v for f in flags if (v := wc.step(f))]
    assert verdicts[0].answered_by is AnsweredBy.HUMAN
    assert (verdicts[0].initial_silence_ms, verdicts[0].greeting_ms, verdicts[0].words) == (200, 400, 1)
    assert verdicts[0].decision_ms == 200 + 400 + 800


def test_initial_silence_is_machine() -> None:
    (v,) = run(add(silence(3000), noise(3000, -60)))
    assert (v.answered_by, v.reason, v.decision_ms) == (AnsweredBy.MACHINE, "INITIALSILENCE", 2500)


def test_short_answer_is_human(tmp_path: Path) -> None:
    (v,) = run(silence(400) + speech("Hello?", tmp_path) + silence(2000))
    assert v.answered_by is AnsweredBy.HUMAN
    assert v.words == 1 and 300 <= v.initial_silence_ms <= 600 and v.decision_ms < 2500


def test_greeting_is_machine_then_beep(tmp_path: Path) -> None:
    pcm = silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(600) + tone(1000, 500, -12) + silence(800)
    verdicts = run(pcm)
    assert [v.answered_by for v in verdicts] == [AnsweredBy.MACHINE, AnsweredBy.BEEP]
    assert verdicts[0].decision_ms < 3000
    assert verdicts[1].beep_hz == pytest.approx(1000, abs=15)


def test_sit_after_greeting_is_not_a_beep(tmp_path: Path) -> None:
    pcm = silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(500) + sit() + silence(1500)
    assert [v.answered_by for v in run(pcm)] == [AnsweredBy.MACHINE]


def test_beep_listening_stops_after_timeout(tmp_path: Path) -> None:
    params = AmdParams(beep_timeout_ms=1000)
    pcm = silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(600) + tone(1000, 500) + silence(800)
    assert [v.answered_by for v in run(pcm, params)] == [AnsweredBy.MACHINE]


def test_tuned_preset_keeps_three_word_answers_human(tmp_path: Path) -> None:
    pcm = silence(300) + speech("Hello, Maria speaking.", tmp_path, rate=180) + silence(2500)
    (v,) = run(pcm, AmdParams.tuned())
    assert v.answered_by is AnsweredBy.HUMAN
