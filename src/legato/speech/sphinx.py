"""The offline engine: pocketsphinx with the US English model inside its wheel (no download at run time).

Telephone audio (8 kHz) is upsampled to the model's 16 kHz. Each utterance is decoded with the general
trigram LM; with hints it is also decoded with a small LM built from the hint phrases (`hint_lm.py`),
and the hint reading wins when its posterior is at least HINT_MARGIN times the general one's, so hints
bias the result towards the phrases without forcing every answer into them.
pocketsphinx holds the GIL while it decodes, so decoding runs in a worker process, never on the loop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from legato.speech.base import DEFAULT_LANGUAGE, Recognition, SpeechInputError, normalise_hints
from legato.speech.hint_lm import arpa
from legato.speech.resample import to_16k

MODEL_RATE = 16000
HINT_MARGIN = 0.5  # the hint LM's reading wins at >= this x the general posterior (tuned on a dev set)
MAX_SECONDS = 120.0  # longest audio decoded in one go
_SEARCHES_KEPT = 32


class _Worker:
    """One decoder (per process) and the hint searches it built, newest kept."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL")
        self.searches: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self.general = self.decoder.current_search()

    def _hint_search(self, hints: tuple[str, ...]) -> str | None:
        from pocketsphinx import NGramModel

        name = self.searches.get(hints)
        if name is not None:
            self.searches.move_to_end(hints)
            return name
        known = tuple(p for p in hints if all(self.decoder.lookup_word(w) for w in p.split()))
        if not known:
            return None
        name = f"hints{len(self.searches)}-{os.getpid()}-{abs(hash(hints))}"
        with tempfile.NamedTemporaryFile("w", suffix=".arpa", delete=False) as f:
            f.write(arpa(known))
        try:
            self.decoder.add_lm(name, NGramModel(self.decoder.config, self.decoder.logmath, f.name))
        finally:
            os.unlink(f.name)
        self.searches[hints] = name
        while len(self.searches) > _SEARCHES_KEPT:
            _, old = self.searches.popitem(last=False)
            self.decoder.remove_search(old)
        return name

    def _decode(self, search: str, pcm: bytes) -> tuple[str, float]:
        d = self.decoder
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        if hyp is None:
            return "", 0.0
        words = [w for w in hyp.hypstr.split() if not w.startswith(("<", "[", "++"))]
        return " ".join(words), float(hyp.prob) if words else 0.0

    def recognise(self, pcm16: bytes, hints: tuple[str, ...]) -> tuple[str, float]:
        text, prob = self._decode(self.general, pcm16)
        search = self._hint_search(hints) if hints else None
        if search is not None:
            hint_text, hint_prob = self._decode(search, pcm16)
            if hint_text and hint_prob >= prob * HINT_MARGIN:
                return hint_text, hint_prob
        return text, prob


_worker: _Worker | None = None


def recognise_blocking(pcm16: bytes, sample_rate: int, hints: tuple[str, ...]) -> tuple[str, float]:
    """Decode in this process (the worker's entry point; blocking, holds the GIL)."""
    global _worker
    if _worker is None:
        _worker = _Worker()
    audio = to_16k(pcm16, sample_rate)
    if len(audio) < MODEL_RATE // 10:  # under 50 ms: nothing to hear
        return "", 0.0
    return _worker.recognise(audio, hints)


class PocketsphinxRecogniser:
    """pocketsphinx in one worker process (started on first use, reused: the model loads once)."""

    name = "pocketsphinx"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def recognise(
        self, pcm16: bytes, sample_rate: int, hints: Sequence[str] = (), language: str = DEFAULT_LANGUAGE
    ) -> Recognition:
        check(pcm16, sample_rate, language)
        phrases = normalise_hints(hints)
        loop = asyncio.get_running_loop()
        text, prob = await loop.run_in_executor(self._executor(), recognise_blocking, pcm16, sample_rate, phrases)
        return Recognition(text, prob)

    def recognise_here(
        self, pcm16: bytes, sample_rate: int, hints: Sequence[str] = (), language: str = DEFAULT_LANGUAGE
    ) -> Recognition:
        """As `recognise`, in the calling thread (benchmarks, tools)."""
        check(pcm16, sample_rate, language)
        return Recognition(*recognise_blocking(pcm16, sample_rate, normalise_hints(hints)))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)


def check(pcm16: bytes, sample_rate: int, language: str, **_: Any) -> None:
    """SpeechInputError for input this engine cannot take."""
    lang = language.lower()
    if lang != "en" and not lang.startswith("en-"):
        raise SpeechInputError(f"language {language!r} is not supported by pocketsphinx (English: en-*)")
    if sample_rate not in (8000, 16000):
        raise SpeechInputError("sample_rate must be 8000 or 16000")
    if len(pcm16) > MAX_SECONDS * sample_rate * 2:
        raise SpeechInputError(f"at most {MAX_SECONDS:.0f} s of audio at once")
