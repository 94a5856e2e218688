"""Answering-machine detection: a speech/silence analyser feeding a greeting judge, plus a beep detector.

Two analysers (AmdParams.detector): `adaptive` (default) hears speech against a per-call noise floor in
10 ms hops (amd_levels.py) and judges the greeting from words and rhythm (amd_greeting.py); `app_amd`
is the anchor: a fixed silence threshold and webrtcvad on 20 ms frames. Its state machine follows the
idea of Asterisk's app_amd (reimplemented here, not copied): count
words (voice runs of at least `minimum_word_length_ms` separated by `between_words_silence_ms`),
decide MACHINE on a long initial silence, a long greeting, too many words or a very long word, and
HUMAN when a short greeting is followed by `after_greeting_silence_ms` of silence. After `words_ms` of
greeting the detector offers the greeting so far (`words_request`) for a phrase look-up; `heard(text)`
with a machine's phrase is MACHINE (amd_words.py). After MACHINE the beep detector keeps listening (up
to `beep_timeout_ms`; after an unsure HUMAN, `beep_after_human_ms`) and BEEP is reported when a tone ends.
"""

from __future__ import annotations

import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import webrtcvad

from legato.domain.leg import AnsweredBy
from legato.media.amd_greeting import GreetingJudge, confidence
from legato.media.amd_levels import HOP, LineAnalyzer
from legato.media.amd_params import AmdParams, AmdVerdict
from legato.media.amd_syllables import SyllableCounter
from legato.media.amd_words import LEAD_MS, machine_said, person_said
from legato.media.beep import BeepDetector
from legato.media.g711 import FRAME_BYTES, FRAME_MS, SAMPLE_RATE

# each detector's beep settings: the quietest beep it listens for; the adaptive one also takes a tone 9 dB
# (not 12) above the noise-subtracted energy around it, so beeps in pink and street noise count (tune half:
# 48 of 57 beeps heard instead of 45, no false BEEP; 80% tone concentration heard more but took a gated
# music bed for a beep, so it stays at 90%). It also takes off the line's noise spectrum estimated from
# its 20% quantile in quiet frames, three times over, and ignores tones 18 dB or more under the greeting's
# loudest frames (a music bed's note): tune half 52 of 57 beeps instead of 48, no false BEEP (quantiles
# 0.1-0.2 x 2.5-4 times and 18-24 dB all gave 52; 24 dB took the gated bed of tests/media/test_amd.py).
# Sixth round: a tone is measured by its own spectral power and the sound around it against the line's
# noise mean (taken 3 times over), so a tone 4 dB over its surroundings counts, and a lost packet is bridged
# after a tone's second window (tune 54/57 beeps, a tune-only 800-clip corpus 200/224 instead of 188, its
# one false BEEP, a SIT in -25 dBFS noise, gone; BENCHMARKS.md). Eighth round, beeps in babble: a window 70% tonal
# goes on a tone begun at 90% (and a steady 70% run just before was its onset), and a tone of 500 ms or more needs
# no quiet around it (1004 tune clips: 846 -> 854 of 887 in the aim's conditions, no false BEEP; BENCHMARKS.md)
BEEP_SETTINGS: dict[str, dict[str, float]] = {
    "adaptive": {"min_level_dbfs": -60.0, "quiet_db": 4.0, "noise_quantile": 0.2, "over_subtraction": 3.0,
                 "under_talker_db": 18.0, "tone_levels": True, "noise_margin": 3.0, "steady_frames": 2,
                 "weak_concentration": 0.7, "long_tone_ms": 500},
    "app_amd": {"min_level_dbfs": -45.0}}


class WordCounter(GreetingJudge):
    """app_amd's word/silence state machine: the greeting judge fed one 20 ms voice/silence flag at a time."""

    def __init__(self, params: AmdParams) -> None:
        super().__init__(params, step_ms=FRAME_MS)


class FixedThresholdWords:
    """app_amd's analysis: a 20 ms frame is voice when loud enough and webrtcvad agrees."""

    def __init__(self, params: AmdParams) -> None:
        self.params = params
        self._vad = webrtcvad.Vad(params.vad_aggressiveness)
        self.judge = WordCounter(params)

    def step(self, frame: bytes) -> AmdVerdict | None:
        level = float(np.abs(np.frombuffer(frame, dtype="<i2").astype(np.int32)).mean())
        voiced = level >= self.params.silence_threshold and self._vad.is_speech(frame, SAMPLE_RATE)
        return self.judge.step(voiced)


class AdaptiveWords:
    """The adaptive analysis: two 10 ms hops per frame through the line analyser and the greeting judge."""

    def __init__(self, params: AmdParams) -> None:
        self.line = LineAnalyzer(params.speech_snr_db, params.hold_snr_db, params.noise_window_ms,
                                 params.vad_aggressiveness)
        self.judge = GreetingJudge(params)
        self.syllables = SyllableCounter()

    def step(self, frame: bytes) -> AmdVerdict | None:
        x = np.frombuffer(frame, dtype="<i2")
        for off in range(0, x.size, HOP):
            hop = self.line.step(x[off:off + HOP])
            nucleus = self.syllables.step(hop.energy_db, hop.speech)
            verdict = self.judge.step(hop.speech, self.line.snr_db(), nucleus)
            if verdict is not None:
                return verdict
        return None


class AmdDetector:
    """Feed the callee's audio from the answer (8 kHz 16-bit PCM); collect verdicts as they come."""

    def __init__(self, params: AmdParams | None = None) -> None:
        self.params = params or AmdParams()
        words = AdaptiveWords if self.params.detector == "adaptive" else FixedThresholdWords
        self._words: AdaptiveWords | FixedThresholdWords = words(self.params)
        beeps = BEEP_SETTINGS[self.params.detector]
        self._beeps = BeepDetector(**beeps) if self.params.detect_beep else None  # type: ignore[arg-type]
        self._buf = b""
        self.verdict: AmdVerdict | None = None
        self.done = False
        self.elapsed_ms = 0
        p = self.params  # words asked at these greeting lengths (none when words_ms is 0)
        self._asks = sorted({ms for ms in (p.words_ms, p.words_late_ms) if ms}) if p.words_ms else []
        self._audio: bytearray | None = bytearray() if self._asks else None  # until words are last asked
        self.words_request: bytes | None = None  # the greeting so far, for the recogniser (taken by the caller)

    def feed(self, pcm: bytes) -> list[AmdVerdict]:
        """Feed linear PCM of any length; returns the verdicts reached in it (MACHINE then BEEP, ...)."""
        if self.done:
            return []
        data = self._buf + pcm
        usable = len(data) - len(data) % FRAME_BYTES
        self._buf = data[usable:]
        out: list[AmdVerdict] = []
        for off in range(0, usable, FRAME_BYTES):
            out.extend(self._frame(data[off:off + FRAME_BYTES]))
            if self.done:
                break
        return out

    def heard(self, text: str) -> list[AmdVerdict]:
        """The recogniser's reading of `words_request`: MACHINE (reason WORDS) when it holds a machine's
        phrase and there is no verdict yet; else nothing (a person's phrase alone allows `person_hold_ms`
        more greeting before MACHINE on length, until a later reading without one)."""
        if self.verdict is not None or self.done:
            return []
        if not machine_said(text):
            self._words.judge.hold_ms = self.params.person_hold_ms if person_said(text) else 0
            return []
        return self._decide(self._words.judge.verdict(AnsweredBy.MACHINE, "WORDS"))

    def _decide(self, verdict: AmdVerdict) -> list[AmdVerdict]:
        self.verdict, self._audio = verdict, None
        if self._beeps is None or self._listen_ms(verdict) == 0:
            self.done = True
        return [verdict]

    def _keep_for_words(self, frame: bytes) -> None:
        """Keep the audio; when the greeting has run words_ms (then words_late_ms), hand it over from just
        before its start."""
        assert self._audio is not None
        self._audio += frame
        judge = self._words.judge
        start = judge.rhythm.start_ms
        if start is not None and judge.greeting_ms() >= self._asks[0]:
            first = max(0, start - LEAD_MS) * SAMPLE_RATE // 1000 * 2
            self.words_request = bytes(self._audio[first:])
            self._asks.pop(0)
            if not self._asks:
                self._audio = None

    def _frame(self, frame: bytes) -> list[AmdVerdict]:
        self.elapsed_ms += FRAME_MS
        out: list[AmdVerdict] = []
        if self.verdict is None:
            verdict = self._words.step(frame)
            if verdict is not None:
                out += self._decide(verdict)
            elif self._audio is not None:
                self._keep_for_words(frame)
        if self._beeps is not None and not self.done:
            beeps = self._beeps.feed(frame)
            if beeps:
                beep = beeps[0]
                if self.verdict is None:  # a beep before any verdict: it is a machine
                    out += self._decide(self._words.judge.verdict(AnsweredBy.MACHINE, "BEEP"))
                v = self.verdict
                out.append(AmdVerdict(AnsweredBy.BEEP, "BEEP", self.elapsed_ms, v.initial_silence_ms,
                                      v.greeting_ms, v.words, beep.frequency_hz, beep.duration_ms,
                                      confidence("BEEP", v.greeting_ms, self.params)))
                self.done = True
            elif self.verdict is not None and self.elapsed_ms - self.verdict.decision_ms >= \
                    self._listen_ms(self.verdict):
                self.done = True
        return out

    @property
    def after_human(self) -> bool:
        """Still listening for a beep after a HUMAN verdict (beep_after_human_ms)."""
        return not self.done and self.verdict is not None and self.verdict.answered_by is AnsweredBy.HUMAN

    def _listen_ms(self, verdict: AmdVerdict) -> int:
        """How long the beep detector goes on after `verdict`: beep_timeout_ms after MACHINE; after an unsure
        HUMAN (a greeting that ended in a pause like an answer), beep_after_human_ms."""
        p = self.params
        if verdict.answered_by is AnsweredBy.MACHINE:
            return p.beep_timeout_ms
        if verdict.answered_by is AnsweredBy.HUMAN and (verdict.confidence or 0.5) <= p.beep_after_human_confidence:
            return p.beep_after_human_ms
        return 0
