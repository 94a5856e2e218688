from pathlib import Path

import numpy as np
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


def test_app_amd_preset_keeps_app_amd_defaults() -> None:
    p = AmdParams.app_amd()
    assert p.detector == "app_amd" and AmdParams().detector == "adaptive"
    assert (p.initial_silence_ms, p.greeting_ms, p.after_greeting_silence_ms, p.total_analysis_time_ms,
            p.minimum_word_length_ms, p.between_words_silence_ms, p.maximum_number_of_words,
            p.silence_threshold, p.maximum_word_length_ms) == (2500, 1500, 800, 5000, 100, 50, 3, 256, 5000)
    assert AmdParams.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError):
        AmdParams.from_dict({"greeting_ms": -1})
    with pytest.raises(ValueError):
        AmdParams.from_dict({"detector": "crystal-ball"})


def test_word_counter_rules() -> None:
    wc = WordCounter(AmdParams.app_amd())
    flags = [False] * 10 + [True] * 20 + [False] * 40  # 200 ms silence, 400 ms word, then silence
    verdicts = [v for f in flags if (v := wc.step(f))]
    assert verdicts[0].answered_by is AnsweredBy.HUMAN
    assert (verdicts[0].initial_silence_ms, verdicts[0].greeting_ms, verdicts[0].words) == (200, 400, 1)
    assert verdicts[0].decision_ms == 200 + 400 + 800


def test_initial_silence_is_machine() -> None:
    (v,) = run(add(silence(3000), noise(3000, -60)))
    assert (v.answered_by, v.reason, v.decision_ms) == (AnsweredBy.MACHINE, "INITIALSILENCE", 2500)


@pytest.mark.parametrize("params", [AmdParams(), AmdParams.app_amd()], ids=["adaptive", "app_amd"])
def test_short_answer_is_human(tmp_path: Path, params: AmdParams) -> None:
    (v,) = run(silence(400) + speech("Hello?", tmp_path) + silence(2000), params)
    assert v.answered_by is AnsweredBy.HUMAN
    assert v.words == 1 and 300 <= v.initial_silence_ms <= 600 and v.decision_ms < 2500
    assert v.confidence is not None and 0.5 <= v.confidence <= 1


def test_greeting_is_machine_then_beep(tmp_path: Path) -> None:
    pcm = silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(600) + tone(1000, 500, -12) + silence(800)
    verdicts = run(pcm)
    assert [v.answered_by for v in verdicts] == [AnsweredBy.MACHINE, AnsweredBy.BEEP]
    assert verdicts[0].decision_ms <= 300 + AmdParams().greeting_ms + 20
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


# The fixed hard conditions of issue 18, on the default (adaptive) detector: quiet talkers, noisy lines,
# long human answers and a beep after a long greeting over music.
LONG_ANSWER = "Good morning, Sharma Traders, how can I help you?"


def scaled(pcm: bytes, db: float) -> bytes:
    return pcm_of(samples_of(pcm) * 10 ** (db / 20))


def samples_of(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64)


def pcm_of(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def on_line(pcm: bytes, noise_dbfs: float) -> bytes:
    return add(pcm, noise(len(pcm) // 16, noise_dbfs, seed=18))


@pytest.mark.parametrize("db", [-20, -12, 0])
def test_quiet_talker_is_human(tmp_path: Path, db: int) -> None:
    pcm = on_line(silence(500) + scaled(speech("Hello?", tmp_path), db) + silence(3000), -65)
    assert [v.answered_by for v in run(pcm)] == [AnsweredBy.HUMAN]
    assert [v.answered_by for v in run(pcm, AmdParams.app_amd())] != [AnsweredBy.HUMAN] or db > -20


def test_quiet_greeting_is_machine(tmp_path: Path) -> None:
    pcm = on_line(silence(300) + scaled(speech(MACHINE_TEXT, tmp_path), -20) + silence(1000), -65)
    assert run(pcm)[0].answered_by is AnsweredBy.MACHINE


def test_noisy_line_human_and_machine(tmp_path: Path) -> None:
    hello = on_line(silence(500) + speech("Hello, who is this?", tmp_path) + silence(3000), -30)
    greeting = on_line(silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(1000), -30)
    (human,) = run(hello)
    assert human.answered_by is AnsweredBy.HUMAN
    assert run(greeting)[0].answered_by is AnsweredBy.MACHINE
    (clean,) = run(silence(500) + speech("Hello, who is this?", tmp_path) + silence(3000))
    assert clean.confidence is not None and human.confidence is not None and human.confidence < clean.confidence
    # the fixed threshold hears the noise as speech and never hears the pause after the answer
    assert run(hello, AmdParams.app_amd())[0].answered_by is AnsweredBy.MACHINE


def test_long_human_answer_is_human(tmp_path: Path) -> None:
    pcm = silence(400) + speech(LONG_ANSWER, tmp_path, rate=175) + silence(3000)
    (v,) = run(pcm)
    assert (v.answered_by, v.reason) == (AnsweredBy.HUMAN, "HUMAN")
    assert run(pcm, AmdParams.app_amd())[0].answered_by is AnsweredBy.MACHINE


def test_word_boundaries_do_not_follow_the_frame_phase(tmp_path: Path) -> None:
    answer = speech("Hello, Maria speaking.", tmp_path, rate=180)
    verdicts = {shift: run(silence(400) + silence(shift) + answer + silence(3000))[0] for shift in (0, 5, 10, 15)}
    assert {v.answered_by for v in verdicts.values()} == {AnsweredBy.HUMAN}
    assert len({v.words for v in verdicts.values()}) == 1


def test_beep_after_long_greeting_over_music(tmp_path: Path) -> None:
    greeting = samples_of(speech(MACHINE_TEXT + " Our office hours are nine to five.", tmp_path))
    t = np.arange(greeting.size) / 8000
    bed = 600 * np.sin(2 * np.pi * 392 * t) * (np.sin(2 * np.pi * 2 * t) > 0)  # a two-note music bed
    pcm = on_line(silence(300) + pcm_of(greeting + bed) + silence(500) + tone(1000, 400, -14) + silence(1000), -45)
    verdicts = run(pcm)
    assert [v.answered_by for v in verdicts] == [AnsweredBy.MACHINE, AnsweredBy.BEEP]
    assert verdicts[1].beep_hz == pytest.approx(1000, abs=15)


@pytest.mark.parametrize("tail", ["sit", "hum", "speech"])
def test_no_false_beep_after_a_greeting(tmp_path: Path, tail: str) -> None:
    after = {"sit": sit(), "hum": pcm_of(sum(samples_of(tone(50 * k, 3000, -20 - 2 * k)) for k in range(1, 8))),
             "speech": speech("Sorry, one more thing, please speak slowly after the tone.", tmp_path)}[tail]
    pcm = on_line(silence(300) + speech(MACHINE_TEXT, tmp_path) + silence(500) + after + silence(1500), -50)
    assert [v.answered_by for v in run(pcm)] == [AnsweredBy.MACHINE]
