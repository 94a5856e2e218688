"""The adaptive AMD's beep settings: a beep with a sound 10.5 dB under it just before is still a beep
(street or pink noise, the last syllable of a greeting), while a like-level sound next to it is not."""

from legato.media.amd import BEEP_SETTINGS
from legato.media.beep import BeepDetector
from tests.media.signals import noise, silence, tone


def beeps(pcm: bytes, **settings: float) -> list[float]:
    det = BeepDetector(**settings)  # type: ignore[arg-type]
    return [b.frequency_hz for i in range(0, len(pcm), 320) for b in det.feed(pcm[i:i + 320])]


def test_beep_just_after_a_sound_10_db_under_it_is_heard() -> None:
    # the tone is -23 dBFS rms (a -20 dBFS peak), the noise 10.5 dB under it
    pcm = silence(1000) + noise(160, -33.5, seed=3) + silence(40) + tone(1000, 300, -20) + silence(1000)
    assert len(beeps(pcm, **BEEP_SETTINGS["adaptive"])) == 1
    assert beeps(pcm, **BEEP_SETTINGS["app_amd"]) == []  # the 12 dB rule of the app_amd anchor misses it


def test_tone_just_after_a_like_level_sound_is_not_a_beep() -> None:
    pcm = silence(1000) + noise(160, -24, seed=3) + silence(40) + tone(1000, 300, -20) + silence(1000)
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == []
