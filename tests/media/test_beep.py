import pytest

from legato.media.beep import BeepDetector
from tests.media.signals import add, hum, music, noise, silence, sit, tone


def beeps(pcm: bytes) -> list:
    det = BeepDetector()
    return [b for i in range(0, len(pcm), 320) for b in det.feed(pcm[i:i + 320])]


@pytest.mark.parametrize(("freq", "dbfs", "ms"), [(440, -10, 500), (1000, -20, 300), (1400, -30, 800),
                                                  (1950, -15, 1000), (850, -35, 250)])
def test_beeps_at_frequencies_and_levels(freq: float, dbfs: float, ms: int) -> None:
    sig = add(silence(500) + tone(freq, ms, dbfs) + silence(1000), noise(500 + ms + 1000, -55))
    found = beeps(sig)
    assert len(found) == 1
    assert abs(found[0].frequency_hz - freq) < 15
    assert abs(found[0].duration_ms - ms) <= 60
    assert found[0].reported_ms - found[0].end_ms <= 260  # reported soon after the tone ends


def test_too_short_is_not_a_beep() -> None:
    assert beeps(silence(300) + tone(1000, 140) + silence(600)) == []


@pytest.mark.parametrize("name", ["sit", "hum50", "hum60", "music", "continuous"])
def test_negatives(name: str) -> None:
    sig = {
        "sit": silence(300) + sit() + silence(1000),
        "hum50": hum(4000, 50.0),
        "hum60": hum(4000, 60.0, dbfs=-12),
        "music": music(8000, seed=3),
        "continuous": tone(425, 6000),  # a dial-tone-like steady tone never ends: never a beep
    }[name]
    assert beeps(sig) == []


def test_beep_after_music_needs_isolation() -> None:
    assert beeps(music(3000, seed=1) + tone(1000, 500) + silence(800)) == []
    assert len(beeps(music(3000, seed=1) + silence(1000) + tone(1000, 500) + silence(800))) == 1
