import wave

from legato.media.recorder import Recorder
from tests.media.signals import tone, tone_ratio


def test_both_directions_mixed_on_the_clock(tmp_path) -> None:
    rec = Recorder("r", tmp_path / "r.wav", "both", started=0.0)
    for i in range(50):  # 1 s of 500 Hz in, and 1 s of 1500 Hz out starting 0.5 s later
        rec.add("in", tone(500, 20), 0.02 * (i + 1))
    for i in range(25):
        rec.add("out", tone(1500, 20), 0.5 + 0.02 * (i + 1))
    assert rec.finish(1.0) == 1000
    with wave.open(str(tmp_path / "r.wav")) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1)
        data = w.readframes(w.getnframes())
    first, second = data[:8000], data[8000:]
    assert tone_ratio(first, 500) > 0.9 and tone_ratio(first, 1500) < 0.05
    assert tone_ratio(second, 1500) > 0.3 and tone_ratio(second, 500) > 0.3


def test_single_direction_ignores_the_other(tmp_path) -> None:
    rec = Recorder("r", tmp_path / "in.wav", "in", started=0.0)
    rec.add("out", tone(1500, 20), 0.02)
    rec.add("in", tone(700, 20), 0.5)  # after a gap: silence is padded before it
    rec.finish(0.5)
    with wave.open(str(tmp_path / "in.wav")) as w:
        assert w.getnframes() == 4000
