import numpy as np
import pytest

from legato.media import g711
from tests.media.signals import tone


@pytest.mark.parametrize("codec", [g711.Codec.PCMU, g711.Codec.PCMA])
def test_round_trip_keeps_a_tone(codec: g711.Codec) -> None:
    pcm = tone(1000, 20, -10)
    encoded = g711.encode(codec, pcm)
    assert len(encoded) == g711.FRAME_SAMPLES
    back = np.frombuffer(g711.decode(codec, encoded), "<i2").astype(float)
    orig = np.frombuffer(pcm, "<i2").astype(float)
    snr = 10 * np.log10(np.sum(orig**2) / np.sum((orig - back) ** 2))
    assert snr > 30


def test_known_codewords() -> None:
    assert g711.encode(g711.Codec.PCMU, b"\x00\x00") == b"\xff"
    assert g711.encode(g711.Codec.PCMA, b"\x00\x00") == b"\xd5"
    assert g711.silence(g711.Codec.PCMU, 3) == b"\xff\xff\xff"


def test_transcode_and_mix() -> None:
    pcm = tone(440, 20)
    mu = g711.encode(0, pcm)
    assert g711.transcode(0, 0, mu) is mu
    a = g711.transcode(0, 8, mu)
    assert g711.rms(g711.decode(8, a)) == pytest.approx(g711.rms(pcm), rel=0.05)
    assert len(g711.mix(pcm, pcm[:100])) == len(pcm)


def test_rejects_other_payload_types() -> None:
    with pytest.raises(ValueError):
        g711.decode(9, b"\x00")
