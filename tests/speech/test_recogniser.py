"""The pocketsphinx recogniser on espeak-ng speech: hints bias it, its worker process, its input rules."""

from __future__ import annotations

import asyncio

import pytest

from legato.speech import ENGINES, Recognition, SpeechInputError, check_language, make_recogniser, normalise_hints
from legato.speech.sphinx import PocketsphinxRecogniser
from tests.speech.audio import TRAVEL, silence, spoken
from tests.speech.wer import errors

VOICES = [("en-us", 150), ("en-us+m3", 175), ("en-us+f2", 140)]


@pytest.fixture(scope="module")
def recogniser() -> PocketsphinxRecogniser:
    return PocketsphinxRecogniser()


def test_hints_bias_the_result_towards_the_menu(recogniser: PocketsphinxRecogniser) -> None:
    said = "change my reservation"
    without = with_hints = 0
    for voice, rate in VOICES:
        pcm = spoken(said, voice, rate)
        plain = recogniser.recognise_here(pcm, 8000)
        hinted = recogniser.recognise_here(pcm, 8000, TRAVEL)
        assert hinted.text == said, (voice, hinted)
        assert 0 < hinted.confidence <= 1
        without += errors(said, plain.text)
        with_hints += errors(said, hinted.text)
    assert with_hints < without


def test_hint_words_the_dictionary_lacks_are_left_out(recogniser: PocketsphinxRecogniser) -> None:
    found = recogniser.recognise_here(spoken("cancel my booking"), 8000, [*TRAVEL, "zzyzxqua flurbo"])
    assert found.text == "cancel my booking"


def test_silence_is_nothing(recogniser: PocketsphinxRecogniser) -> None:
    assert recogniser.recognise_here(silence(1.0), 8000, TRAVEL) == Recognition("", 0.0)
    assert recogniser.recognise_here(b"", 8000) == Recognition("", 0.0)


def test_recognise_decodes_in_a_worker_process() -> None:
    async def run() -> Recognition:
        engine = make_recogniser("pocketsphinx")
        try:
            return await engine.recognise(spoken("book a flight"), 8000, ", ".join(TRAVEL), "en-GB")
        finally:
            await engine.close()

    assert asyncio.run(run()).text == "book a flight"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"language": "fr-FR"}, "language"),
        ({"sample_rate": 44100}, "sample_rate"),
        ({"hints": ["x"] * 501}, "500 hints"),
        ({"hints": ["x" * 101]}, "100 characters"),
    ],
)
def test_bad_input_says_what_is_wrong(
    recogniser: PocketsphinxRecogniser, kwargs: dict[str, object], words: str
) -> None:
    args: dict[str, object] = {"pcm16": silence(0.5), "sample_rate": 8000, **kwargs}
    with pytest.raises(SpeechInputError, match=words):
        recogniser.recognise_here(**args)  # type: ignore[arg-type]


def test_hints_and_engines() -> None:
    assert normalise_hints("Sales, Technical  Support,,sales") == ("sales", "technical support")
    assert normalise_hints(["Yes!", "no"]) == ("yes", "no")
    assert check_language("en-US") and check_language("en") and not check_language("de-DE")
    assert "pocketsphinx" in ENGINES
    with pytest.raises(ValueError, match="pocketsphinx"):
        make_recogniser("cloud-x")
