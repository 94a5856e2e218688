"""The greeting judge of the adaptive AMD: words, pauses and rhythm from 10 ms speech flags, then a verdict.

Words are speech runs of at least `minimum_word_length_ms`, split by `between_words_silence_ms` of
silence. The greeting runs from the first word to the first pause of `after_greeting_silence_ms`: a
person says a few words and waits for the caller (HUMAN); a machine keeps talking (MACHINE when the
greeting reaches `greeting_ms`, has `maximum_number_of_words` words (0: no limit) or one word of
`maximum_word_length_ms`). Two rhythm rules decide sooner: a short answer (a greeting of at most
`short_answer_ms`) followed by `short_answer_silence_ms` of silence is a person waiting for the caller
(HUMAN, reason SHORTANSWER); a greeting that has run `steady_greeting_ms` without one pause of
`steady_pause_ms` is a recording read in one breath (MACHINE, reason STEADYGREETING), since people
answering pause between phrases. Beyond word counts the judge keeps the greeting's rhythm (share of time
spoken, longest pause) and the line's signal-to-noise ratio, which set the verdict's `confidence`.
"""

from __future__ import annotations

from dataclasses import dataclass

from legato.domain.leg import AnsweredBy
from legato.media.amd_levels import HOP_MS
from legato.media.amd_params import AmdParams, AmdVerdict


def confidence(reason: str, greeting_ms: int, params: AmdParams, snr_db: float | None = None,
               spoken_share: float = 1.0) -> float:
    """0.5 (a guess) .. 1.0 (clear): how far the deciding figure was from its limit, times how clearly
    speech stood out of the line's noise (not a calibrated probability; see BENCHMARKS.md)."""
    limit = max(params.greeting_ms, 1)
    if reason == "HUMAN":
        margin = 1.0 - min(1.0, greeting_ms / limit)
    elif reason == "SHORTANSWER":
        margin = 1.0 - min(1.0, greeting_ms / max(params.short_answer_ms, 1))
    elif reason in ("LONGGREETING", "MAXWORDS", "MAXWORDLENGTH", "STEADYGREETING"):
        margin = min(1.0, spoken_share)
    elif reason == "BEEP":
        margin = 1.0
    elif reason == "WORDS":  # a machine's phrase in the greeting (amd_words.py)
        margin = 0.5
    elif reason == "INITIALSILENCE":
        margin = 0.4
    else:  # TOOLONG, NOAUDIO
        margin = 0.0
    clarity = 1.0 if snr_db is None else min(1.0, max(0.0, (snr_db - 6.0) / 14.0))
    return round(0.5 + 0.5 * (0.5 + 0.5 * margin) * clarity, 2) if margin > 0 else 0.5


@dataclass(slots=True)
class Rhythm:
    """The greeting so far: where it started, how much of it was speech, its pauses."""

    start_ms: int | None = None
    spoken_ms: int = 0
    longest_pause_ms: int = 0
    pauses: int = 0
    syllables: int = 0  # nuclei heard since the greeting began (amd_syllables.py)

    def share(self, now_ms: int) -> float:
        if self.start_ms is None or now_ms <= self.start_ms:
            return 0.0
        return self.spoken_ms / (now_ms - self.start_ms)


class GreetingJudge:
    """Fed one 10 ms speech flag at a time (with the line's SNR); returns a verdict when it has one."""

    def __init__(self, params: AmdParams, step_ms: int = HOP_MS) -> None:
        self.p = params
        self.step_ms = step_ms
        self.elapsed_ms = 0
        self.words = 0
        self.in_word = False
        self.voice_run_ms = 0
        self.silence_run_ms = 0
        self.rhythm = Rhythm()
        self.snr_db: float | None = None
        self._pending_syllables = 0  # nuclei of a first voice run not yet long enough to start the greeting
        self.hold_ms = 0  # more greeting allowed (and no steady-greeting rule) after a person's phrase was heard

    @property
    def initial_silence_ms(self) -> int:
        start = self.rhythm.start_ms
        return start if start is not None else self.elapsed_ms

    def greeting_ms(self, until_ms: int | None = None) -> int:
        start = self.rhythm.start_ms
        if start is None:
            return 0
        return max(0, (self.elapsed_ms if until_ms is None else until_ms) - start)

    def verdict(self, who: AnsweredBy, reason: str, greeting_end: int | None = None) -> AmdVerdict:
        greeting = self.greeting_ms(greeting_end)
        share = self.rhythm.share(self.elapsed_ms if greeting_end is None else greeting_end)
        return AmdVerdict(answered_by=who, reason=reason, decision_ms=self.elapsed_ms,
                          initial_silence_ms=self.initial_silence_ms, greeting_ms=greeting, words=self.words,
                          confidence=confidence(reason, greeting, self.p, self.snr_db, share))

    def step(self, speech: bool, snr_db: float | None = None, nucleus: bool = False) -> AmdVerdict | None:
        """Advance one step (10 ms); `nucleus`: a syllable's nucleus was confirmed on this step."""
        p = self.p
        self.elapsed_ms += self.step_ms
        self.snr_db = snr_db
        if nucleus:
            if self.rhythm.start_ms is not None:
                self.rhythm.syllables += 1
            elif speech or self.voice_run_ms:
                self._pending_syllables += 1
        if speech:
            return self._voice()
        self.silence_run_ms += self.step_ms
        if self.silence_run_ms >= p.between_words_silence_ms:
            self.in_word = False
            self.voice_run_ms = 0
            self._pending_syllables = 0
        if self.words == 0 and self.elapsed_ms >= p.initial_silence_ms:
            return self.verdict(AnsweredBy.MACHINE, "INITIALSILENCE")
        if self.words > 0:
            end = self.elapsed_ms - self.silence_run_ms
            if self.silence_run_ms >= p.after_greeting_silence_ms:
                return self.verdict(AnsweredBy.HUMAN, "HUMAN", end)
            if p.short_answer_ms and self.silence_run_ms >= p.short_answer_silence_ms and \
                    self.greeting_ms(end) <= p.short_answer_ms:
                return self.verdict(AnsweredBy.HUMAN, "SHORTANSWER", end)
        return self._too_long()

    def _voice(self) -> AmdVerdict | None:
        p, r = self.p, self.rhythm
        if r.start_ms is not None and self.silence_run_ms > 0:
            r.pauses += 1
            r.longest_pause_ms = max(r.longest_pause_ms, self.silence_run_ms)
        self.silence_run_ms = 0
        self.voice_run_ms += self.step_ms
        if r.start_ms is not None:
            r.spoken_ms += self.step_ms
        if not self.in_word and self.voice_run_ms >= p.minimum_word_length_ms:
            self.in_word = True
            self.words += 1
            if r.start_ms is None:
                r.start_ms = self.elapsed_ms - self.voice_run_ms
                r.spoken_ms = self.voice_run_ms
                r.syllables = self._pending_syllables
            if 0 < p.maximum_number_of_words <= self.words:
                return self.verdict(AnsweredBy.MACHINE, "MAXWORDS")
        if self.voice_run_ms >= p.maximum_word_length_ms:
            return self.verdict(AnsweredBy.MACHINE, "MAXWORDLENGTH")
        if r.start_ms is not None and self._long():
            return self.verdict(AnsweredBy.MACHINE, "LONGGREETING")
        if p.steady_greeting_ms and not self.hold_ms and r.start_ms is not None and \
                self.greeting_ms() >= p.steady_greeting_ms and r.longest_pause_ms < p.steady_pause_ms:
            return self.verdict(AnsweredBy.MACHINE, "STEADYGREETING")
        return self._too_long()

    def _long(self) -> bool:
        """The greeting ran greeting_ms (plus any hold) with greeting_syllables nuclei, or greeting_max_ms."""
        p, greeting = self.p, self.greeting_ms()
        if greeting < p.greeting_ms + self.hold_ms:
            return False
        return not p.greeting_syllables or self.rhythm.syllables >= p.greeting_syllables or \
            greeting >= max(p.greeting_max_ms, p.greeting_ms) + self.hold_ms

    def _too_long(self) -> AmdVerdict | None:
        if self.elapsed_ms >= self.p.total_analysis_time_ms:
            return self.verdict(self.p.undecided, "TOOLONG")
        return None
