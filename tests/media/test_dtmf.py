import pytest

from legato.media.dtmf import DtmfDetector
from legato.media.speech import synthesize
from legato.media.wavfile import read_pcm
from tests.media.signals import add, dtmf, noise, silence

ALL = "0123456789*#ABCD"


def detect(pcm: bytes, chunk: int = 320) -> str:
    det = DtmfDetector()
    return "".join(d for i in range(0, len(pcm), chunk) for d in det.feed(pcm[i:i + chunk]))


@pytest.mark.parametrize("offset_ms", [0, 5, 13])
def test_all_digits_at_40ms_with_noise(offset_ms: int) -> None:
    sig = silence(offset_ms) + b"".join(dtmf(d, 40) + silence(40) for d in ALL)
    noisy = add(sig, noise(len(sig) // 16, dbfs=-12 - 3 - 15, seed=offset_ms))  # ~15 dB SNR
    assert detect(noisy) == ALL


def test_repeated_digit_needs_a_gap() -> None:
    assert detect(dtmf("5", 300)) == "5"
    assert detect(dtmf("5", 60) + silence(60) + dtmf("5", 60)) == "55"


def test_twist_limits() -> None:
    from tests.media.signals import tone

    # row 770 Hz and column 1336 Hz ('5'): column 10 dB above row is beyond +4 dB forward twist
    assert detect(add(tone(770, 200, -22), tone(1336, 200, -12))) == ""
    assert detect(add(tone(770, 200, -14), tone(1336, 200, -12))) == "5"


def test_no_false_digits_on_speech(tmp_path) -> None:
    text = ("Thank you for calling. Please hold while we connect you. Your call is important to us, "
            "and one of our agents will be with you shortly. Seven, eight, nine, pound, star.")
    speech = b"".join(read_pcm(synthesize(text, tmp_path, voice=v, rate=r))
                      for v, r in [("en-us", 160), ("en-gb", 190), ("en-us+f3", 140)])
    assert detect(speech) == ""
