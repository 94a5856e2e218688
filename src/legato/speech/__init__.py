"""Speech recognition behind one small interface: `Recogniser.recognise(pcm16, sample_rate, hints, language)`.

Engines live one per module and register in `registry.py` (`ENGINES`); the media engine picks one by
name (`--speech-engine`, config `speech_engine`). The offline engine is pocketsphinx (`sphinx.py`),
whose English model ships inside its wheel: nothing is downloaded at run time.
"""

from legato.speech.base import Recogniser, Recognition, SpeechInputError, normalise_hints
from legato.speech.registry import ENGINES, check_language, make_recogniser

__all__ = [
    "ENGINES",
    "Recogniser",
    "Recognition",
    "SpeechInputError",
    "check_language",
    "make_recogniser",
    "normalise_hints",
]
