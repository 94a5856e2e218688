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
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from legato.speech.base import DEFAULT_LANGUAGE, Recognition, SpeechInputError, normalise_hints
from legato.speech.endpointer import audible
from legato.speech.hint_lm import arpa
from legato.speech.resample import to_16k

MODEL_RATE = 16000
HINT_MARGIN = 0.5  # the hint LM's reading wins at >= this x the general posterior (tuned on a dev set)
MAX_SECONDS = 120.0  # longest audio decoded in one go
_HINT_SETS_KEPT = 32


class _Worker:
    """The general decoder (one per process) and small decoders for the hint sets seen, newest kept.

    A hint set gets its own decoder whose dictionary holds only the hint words: adding a search to the
    general decoder would index its 134,000-word dictionary again (seconds); a small one takes ~10 ms."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL")
        self.cmn = self.decoder.get_cmn()
        self.hinted: OrderedDict[tuple[str, ...], Any] = OrderedDict()

    def _hint_decoder(self, hints: tuple[str, ...]) -> Any | None:
        from pocketsphinx import Decoder

        found = self.hinted.get(hints)
        if found is not None:
            self.hinted.move_to_end(hints)
            return found
        known = tuple(p for p in hints if all(self.decoder.lookup_word(w) for w in p.split()))
        if not known:
            return None
        words = sorted({w for p in known for w in p.split()})
        with tempfile.TemporaryDirectory() as folder:
            lm, vocabulary = os.path.join(folder, "hints.arpa"), os.path.join(folder, "hints.dict")
            with open(lm, "w") as f:
                f.write(arpa(known))
            with open(vocabulary, "w") as f:
                f.writelines(f"{w} {self.decoder.lookup_word(w)}\n" for w in words)
            decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL", lm=lm, dict=vocabulary)
        self.hinted[hints] = decoder
        while len(self.hinted) > _HINT_SETS_KEPT:
            self.hinted.popitem(last=False)
        return decoder

    def _decode(self, decoder: Any, pcm: bytes) -> tuple[str, float]:
        decoder.reinit_feat()  # no noise or CMN estimate carried over: the same audio, the same answer
        decoder.set_cmn(self.cmn)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None:
            return "", 0.0
        words = [w for w in hyp.hypstr.split() if not w.startswith(("<", "[", "++"))]
        return " ".join(words), float(hyp.prob) if words else 0.0

    def recognise(self, pcm16: bytes, hints: tuple[str, ...], hints_only: bool = False) -> tuple[str, float]:
        if hints_only and hints:
            spotter = self._hint_decoder(hints)
            if spotter is not None:
                return self._decode(spotter, pcm16)
        text, prob = self._decode(self.decoder, pcm16)  # before a new hint decoder is built, as it always was
        hinted = self._hint_decoder(hints) if hints else None
        if hinted is not None:
            hint_text, hint_prob = self._decode(hinted, pcm16)
            if hint_text and hint_prob >= prob * HINT_MARGIN:
                return hint_text, hint_prob
        return text, prob


_worker: _Worker | None = None


def _exit_with_parent(parent: int) -> None:
    """In a worker: leave when the process that started it is gone, even after SIGKILL (no orphans)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def load() -> None:
    """Load the model in this process (the worker's warm-up)."""
    global _worker
    if _worker is None:
        _worker = _Worker()


def recognise_blocking(pcm16: bytes, sample_rate: int, hints: tuple[str, ...],
                       hints_only: bool = False) -> tuple[str, float]:
    """Decode in this process (the worker's entry point; blocking, holds the GIL)."""
    if not audible(pcm16, sample_rate):
        return "", 0.0
    audio = to_16k(pcm16, sample_rate)
    load()
    assert _worker is not None
    return _worker.recognise(audio, hints, hints_only)


class PocketsphinxRecogniser:
    """pocketsphinx in one worker process (started on first use, reused: the model loads once)."""

    name = "pocketsphinx"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            for _ in range(self.workers):
                self._pool.submit(load)
        return self._pool

    def prepare(self) -> None:
        self._executor()

    async def recognise(
        self, pcm16: bytes, sample_rate: int, hints: Sequence[str] = (), language: str = DEFAULT_LANGUAGE,
        hints_only: bool = False,
    ) -> Recognition:
        check(pcm16, sample_rate, language)
        phrases = normalise_hints(hints)
        loop = asyncio.get_running_loop()
        text, prob = await loop.run_in_executor(self._executor(), recognise_blocking, pcm16, sample_rate, phrases,
                                                hints_only)
        return Recognition(text, prob)

    def recognise_here(
        self, pcm16: bytes, sample_rate: int, hints: Sequence[str] = (), language: str = DEFAULT_LANGUAGE,
        hints_only: bool = False,
    ) -> Recognition:
        """As `recognise`, in the calling thread (benchmarks, tools)."""
        check(pcm16, sample_rate, language)
        return Recognition(*recognise_blocking(pcm16, sample_rate, normalise_hints(hints), hints_only))

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
