import pytest

from legato.media.gather import Gather


def test_num_digits() -> None:
    g = Gather(3, 5.0, "#", now=0.0)
    assert g.on_digit("1", 1.0) is None
    assert g.on_digit("2", 2.0) is None
    result = g.on_digit("3", 3.0)
    assert result is not None and (result.digits, result.reason) == ("123", "num_digits")


def test_finish_on_key_is_not_included() -> None:
    g = Gather(None, 5.0, "#", now=0.0)
    g.on_digit("4", 0.5)
    result = g.on_digit("#", 1.0)
    assert result is not None and (result.digits, result.reason) == ("4", "finish_on_key")


def test_timeout_restarts_after_each_digit() -> None:
    g = Gather(None, 2.0, None, now=0.0)
    g.on_digit("9", 1.5)
    assert g.on_clock(3.0) is None
    result = g.on_clock(3.5)
    assert result is not None and (result.digits, result.reason) == ("9", "timeout")


@pytest.mark.parametrize("args", [(0, 5.0, "#"), (3, 0.0, "#"), (3, 5.0, "##"), (3, 5.0, "x")])
def test_validation(args: tuple) -> None:
    with pytest.raises(ValueError):
        Gather(*args, now=0.0)


def test_silence_timeout_counts_from_the_last_voice_or_key() -> None:
    from tests.media.signals import silence, tone

    g = Gather(None, 60.0, None, now=0.0, silence_timeout=2.0)
    assert g.listening and g.deadline == 2.0
    g.on_audio(tone(400, 20), 1.0)
    g.on_audio(silence(20), 1.5)
    assert g.deadline == 3.0 and g.on_clock(2.5) is None
    g.on_digit("5", 2.8)
    assert g.on_clock(4.0) is None
    result = g.on_clock(4.8)
    assert result is not None and (result.digits, result.reason) == ("5", "silence")
    with pytest.raises(ValueError, match="silence_timeout"):
        Gather(None, 5.0, None, now=0.0, silence_timeout=0)


def test_a_speech_gather_with_silence_timeout_hears_voice_through_its_endpointer() -> None:
    from tests.media.signals import silence, tone

    g = Gather(None, 60.0, None, now=0.0, input="speech", silence_timeout=2.0)
    g.on_audio(tone(400, 20), 1.0)  # one voiced packet: too short to start speech, but it is voice
    g.on_audio(silence(20), 1.5)
    assert g.on_clock(2.9) is None
    result = g.on_clock(3.0)
    assert result is not None and result.reason == "silence"
