"""The adaptive AMD's beep settings: a beep with a sound 10.5 dB under it just before is still a beep
(street or pink noise, the last syllable of a greeting), while a like-level sound next to it is not; a
beep a few dB over white noise is heard, also under -30 dBFS noise or broken by a concealed lost packet; an
isolated tone far under the greeting, SIT tones, music and hum in noise are not a beep. A beep under bursts
of noise as loud as babble (its windows only 70-90% tonal in the bursts) is heard, and a tone of 500 ms or more
is a beep with like-level sounds right before and after it, a 300 ms one is not."""

import numpy as np
import pytest

from legato.media.amd import BEEP_SETTINGS
from legato.media.beep import BeepDetector
from tests.media.signals import add, hum, music, noise, silence, sit, tone


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


def test_long_tone_between_like_level_sounds_is_a_beep() -> None:
    def around(ms: int) -> bytes:
        return silence(1000) + noise(160, -24, seed=3) + silence(40) + tone(1000, ms, -20) + silence(40) + \
            noise(160, -24, seed=4) + silence(1000)
    assert beeps(around(600), **BEEP_SETTINGS["adaptive"]) == [pytest.approx(1000, abs=15)]
    assert beeps(around(300), **BEEP_SETTINGS["adaptive"]) == []  # short tones still need quiet around them
    no_rule = {k: v for k, v in BEEP_SETTINGS["adaptive"].items() if k != "long_tone_ms"}
    assert beeps(around(600), **no_rule) == []


def bursts(ms: int, dbfs: float, seed: int) -> bytes:
    """Noise switched on and off every 100 ms (babble's changing level, which no noise spectrum takes off)."""
    return b"".join(noise(100, dbfs, seed=seed * 100 + i) if i % 2 == 0 else silence(100) for i in range(ms // 100))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_beep_under_bursts_of_noise_is_heard(seed: int) -> None:
    # a 1000 Hz beep at -23 dBFS rms under -30 dBFS bursts: the windows in a burst are only 70-90% tonal, and go
    # on the tone at the weak concentration (0.7) instead of breaking it into pieces
    pcm = add(bursts(3600, -30, seed), silence(1500) + tone(1000, 600, -20) + silence(1500))
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == [pytest.approx(1000, abs=15)]
    no_weak = {k: v for k, v in BEEP_SETTINGS["adaptive"].items() if k != "weak_concentration"}
    assert beeps(pcm, **no_weak) == []


def test_beep_6_db_over_white_noise_is_heard() -> None:
    # a 440 Hz beep at -29 dBFS rms in white noise at -35 dBFS: the line's noise spectrum is taken off
    # (its 20% quantile, three times over) before the tone's share is judged
    beep = silence(1500) + tone(440, 400, -26) + silence(1500)
    pcm = add(noise(3400, -35, seed=18), beep)
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == [pytest.approx(440, abs=15)]
    old = {k: v for k, v in BEEP_SETTINGS["adaptive"].items() if k in ("min_level_dbfs", "quiet_db")}
    assert beeps(pcm, **old) == []  # the minimum (doubled) of the noise spectrum left too much of it


def test_a_music_bed_note_far_under_the_greeting_is_not_a_beep() -> None:
    # a loud sound (the greeting), then an isolated 300 ms tone 24 dB under it: a bed's note, not a beep
    pcm = silence(500) + noise(1500, -15, seed=3) + silence(300) + tone(392, 300, -36) + silence(1500)
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == []
    no_rule = {k: v for k, v in BEEP_SETTINGS["adaptive"].items() if k != "under_talker_db"}
    assert len(beeps(pcm, **no_rule)) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_beep_in_white_noise_at_minus_30_dbfs_is_heard(seed: int) -> None:
    # a 1000 Hz beep at -29 dBFS rms under -30 dBFS white noise (the noise louder than the beep)
    beep = silence(1500) + tone(1000, 500, -26) + silence(1500)
    pcm = add(noise(3500, -30, seed=seed), beep)
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == [pytest.approx(1000, abs=15)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sit_tones_in_loud_noise_are_not_a_beep(seed: int) -> None:
    # the three SIT tones as loud as the -25 dBFS white noise: each tone is measured by its own power,
    # so the last is not taken for a lone beep when the noise blurs the levels of the first two
    pcm = add(noise(4500, -25, seed=seed), silence(1500) + sit(-22) + silence(2000))
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == []


@pytest.mark.parametrize("name", ["music", "hum"])
def test_music_and_hum_in_noise_are_not_a_beep(name: str) -> None:
    sound = music(6000, seed=4, dbfs=-22) if name == "music" else hum(6000, 50.0, dbfs=-22)
    pcm = add(noise(7500, -35, seed=5), sound + silence(1500))
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == []


def test_beep_broken_by_a_lost_packet_at_its_start_is_heard() -> None:
    # the packet after the beep's first 40 ms is lost and concealed by repeating the one before, 6 dB down
    x = np.frombuffer(silence(1500) + tone(440, 600, -20) + silence(1500), "<i2").copy()
    start = 1500 * 8 + 2 * 160  # the third packet of the beep
    x[start:start + 160] = x[start - 160:start] // 2
    pcm = x.tobytes()
    assert beeps(pcm, **BEEP_SETTINGS["adaptive"]) == [pytest.approx(440, abs=15)]
