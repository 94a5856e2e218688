"""Collecting input: a small state machine fed digits, received audio and the clock.

`input` is "dtmf", "speech" or "dtmf speech". Digits end it on `num_digits`, on `finish_on_key`
(not included) or after `timeout` s without a digit. Speech: the endpointer (speech/endpointer.py)
waits `timeout` s for the caller to start, then ends the utterance after `speech_timeout` s of
silence (or MAX_SPEECH_SECONDS); the result carries the audio for the recogniser. With both, the
first to come wins: a digit before speech starts drops the speech capture, speech ignores digits after.
`silence_timeout` (a recording's silence rule, TwiML `<Record timeout>`) also ends it, reason `silence`,
once that many seconds passed without a voiced 20 ms frame or a key.
"""

from __future__ import annotations

from dataclasses import dataclass

from legato.media.g711 import SAMPLE_RATE
from legato.media.telephone_event import DIGITS
from legato.speech.endpointer import MIN_RMS, Endpointer, Phase, audible

INPUTS = ("dtmf", "speech", "dtmf speech")
AUTO_SPEECH_TIMEOUT = 1.0  # speech_timeout "auto": seconds of silence that end an utterance
MAX_SPEECH_SECONDS = 60.0  # as Twilio: an utterance longer than this is cut there


@dataclass(frozen=True, slots=True)
class SpeechOptions:
    """How to end and recognise speech input."""

    speech_timeout: float | None = None  # None: auto
    hints: tuple[str, ...] = ()
    language: str = "en-US"


@dataclass(frozen=True, slots=True)
class GatherResult:
    digits: str
    reason: str  # num_digits | finish_on_key | timeout | speech | silence | stopped | released
    speech: bytes | None = None  # the utterance to recognise (reason "speech")


class Gather:
    """Ends on `num_digits`, on `finish_on_key` (not included), after `timeout` s without input, or on speech."""

    def __init__(
        self,
        num_digits: int | None,
        timeout: float,
        finish_on_key: str | None,
        now: float,
        input: str = "dtmf",
        speech: SpeechOptions | None = None,
        silence_timeout: float | None = None,
    ) -> None:
        if num_digits is not None and not 1 <= num_digits <= 128:
            raise ValueError("num_digits must be 1..128")
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be within (0, 600] seconds")
        if finish_on_key and (len(finish_on_key) != 1 or finish_on_key.upper() not in DIGITS):
            raise ValueError("finish_on_key must be one DTMF key")
        if silence_timeout is not None and not 0 < silence_timeout <= 600:
            raise ValueError("silence_timeout must be within (0, 600] seconds")
        if input not in INPUTS:
            raise ValueError(f"input must be one of {', '.join(INPUTS)}")
        self.num_digits = num_digits
        self.timeout = timeout
        self.finish_on_key = finish_on_key.upper() if finish_on_key else None
        self.dtmf = "dtmf" in input
        self.options = speech or SpeechOptions()
        silence = self.options.speech_timeout or AUTO_SPEECH_TIMEOUT
        if not 0 < silence <= 60:
            raise ValueError("speech_timeout must be within (0, 60] seconds or auto")
        self.listener = Endpointer(SAMPLE_RATE, silence, MAX_SPEECH_SECONDS, now) if "speech" in input else None
        self.digits = ""
        self.wait_until = now + timeout
        self.quiet_for = silence_timeout
        self.voiced_at = now  # the last voiced frame or key (silence_timeout counts from it)

    @property
    def deadline(self) -> float:
        """When `on_clock` must run next."""
        speaking = self.listener.deadline if self.listener is not None else None
        if speaking is not None:
            return speaking
        return self.wait_until if self.quiet_for is None else min(self.wait_until, self.voiced_at + self.quiet_for)

    @property
    def listening(self) -> bool:
        """It wants the received audio (speech, or voice activity for silence_timeout)."""
        return self.listener is not None or self.quiet_for is not None

    def on_digit(self, digit: str, now: float) -> GatherResult | None:
        if not self.dtmf or (self.listener is not None and self.listener.phase is not Phase.WAITING):
            return None
        self.listener = None  # a key came first: this gather is for digits now
        self.voiced_at = now
        digit = digit.upper()
        if self.finish_on_key and digit == self.finish_on_key:
            return GatherResult(self.digits, "finish_on_key")
        self.digits += digit
        self.wait_until = now + self.timeout
        if self.num_digits is not None and len(self.digits) >= self.num_digits:
            return GatherResult(self.digits, "num_digits")
        return None

    def on_audio(self, pcm: bytes, now: float) -> GatherResult | None:
        """Received audio (16-bit PCM at 8 kHz)."""
        listener = self.listener
        if listener is None:
            if self.quiet_for is not None and audible(pcm, SAMPLE_RATE):
                self.voiced_at = now
            return None
        phase = listener.feed(pcm, now)
        if self.quiet_for is not None and listener.loudest > MIN_RMS:  # its frame levels: one RMS pass a frame
            self.voiced_at = now
        return GatherResult(self.digits, "speech", listener.audio) if phase is Phase.DONE else None

    def on_clock(self, now: float) -> GatherResult | None:
        if self.listener is not None and self.listener.phase is not Phase.WAITING:
            if self.listener.check(now) is Phase.DONE:
                return GatherResult(self.digits, "speech", self.listener.audio)
            return None
        if self.quiet_for is not None and now >= self.voiced_at + self.quiet_for:
            return GatherResult(self.digits, "silence")
        return GatherResult(self.digits, "timeout") if now >= self.wait_until else None
