"""The energy endpointer and the speech part of a gather, fed espeak-ng speech in 20 ms packets."""

from __future__ import annotations

from legato.media.gather import Gather, SpeechOptions
from legato.speech.endpointer import PRE_ROLL, Endpointer, Phase, audible
from tests.speech.audio import silence, spoken

PACKET = 320  # bytes of 16-bit PCM in 20 ms at 8 kHz


def feed(target: Endpointer | Gather, pcm: bytes, start: float) -> tuple[float, object]:
    """Feed `pcm` packet by packet from clock time `start`; returns the time after it and the first result."""
    now, result = start, None
    for i in range(0, len(pcm), PACKET):
        now += 0.02
        got = (
            target.feed(pcm[i : i + PACKET], now)
            if isinstance(target, Endpointer)
            else target.on_audio(pcm[i : i + PACKET], now)
        )
        if result is None and got not in (None, Phase.WAITING, Phase.SPEAKING):
            result = got
    return now, result


def test_an_utterance_between_silences() -> None:
    words = spoken("book a flight")
    ep = Endpointer(8000, silence=0.8, max_seconds=60, now=0.0)
    now, _ = feed(ep, silence(1.0), 0.0)
    assert ep.phase is Phase.WAITING and ep.deadline is None
    now, _ = feed(ep, words, now)
    assert ep.phase is Phase.SPEAKING and ep.deadline is not None
    now, done = feed(ep, silence(1.0), now)
    assert done is Phase.DONE
    kept = len(ep.audio) / 16000
    assert len(words) / 16000 < kept < len(words) / 16000 + PRE_ROLL + 0.3
    assert audible(ep.audio, 8000)


def test_the_clock_ends_speech_when_packets_stop() -> None:
    ep = Endpointer(8000, silence=0.5, max_seconds=60, now=0.0)
    feed(ep, spoken("baggage"), 0.0)
    assert ep.phase is Phase.SPEAKING
    deadline = ep.deadline
    assert deadline is not None and ep.check(deadline - 0.01) is Phase.SPEAKING
    assert ep.check(deadline) is Phase.DONE


def test_a_click_does_not_start_speech() -> None:
    ep = Endpointer(8000, silence=0.5, max_seconds=60, now=0.0)
    click = spoken("baggage")[4000 : 4000 + 2 * PACKET]  # 40 ms of a loud vowel
    feed(ep, silence(0.5) + click + silence(0.5), 0.0)
    assert ep.phase is Phase.WAITING


def test_speech_gather_returns_the_utterance() -> None:
    gather = Gather(None, 5.0, "#", 0.0, "speech", SpeechOptions(0.6, ("baggage",)))
    now, _ = feed(gather, silence(0.5) + spoken("baggage"), 0.0)
    assert gather.on_clock(now) is None
    now, result = feed(gather, silence(1.0), now)
    assert result is not None and result.reason == "speech" and result.speech  # type: ignore[attr-defined]


def test_speech_gather_times_out_without_speech_and_ignores_digits() -> None:
    gather = Gather(None, 2.0, "#", 0.0, "speech")
    assert gather.on_digit("5", 0.5) is None and gather.digits == ""
    assert gather.on_clock(1.9) is None
    result = gather.on_clock(2.0)
    assert result is not None and (result.reason, result.speech) == ("timeout", None)


def test_dtmf_or_speech_a_key_first_makes_it_a_digit_gather() -> None:
    gather = Gather(2, 5.0, "#", 0.0, "dtmf speech")
    assert gather.on_digit("4", 0.5) is None and not gather.listening
    assert gather.on_audio(spoken("baggage"), 0.6) is None
    result = gather.on_digit("2", 0.7)
    assert result is not None and (result.digits, result.reason) == ("42", "num_digits")


def test_dtmf_or_speech_speech_first_ignores_later_keys() -> None:
    gather = Gather(None, 5.0, "#", 0.0, "dtmf speech")
    now, _ = feed(gather, spoken("baggage"), 0.0)
    assert gather.on_digit("#", now) is None
    now, result = feed(gather, silence(1.5), now)
    assert result is not None and result.reason == "speech"  # type: ignore[attr-defined]
