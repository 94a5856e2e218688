"""gather: collect the caller's keys and/or speech (`gather_completed`; `dtmf_received` for each key).

Sandbox: the caller keys the last four digits of its number, then `#`: one key every key_interval s, the first
key_interval s after the gather starts (a leg made through /sandbox/incoming keys 1234#); a number ending in
0009 never keys anything (the gather times out). The caller is silent: with silence_timeout the gather ends,
reason silence, that long after it started or after the last key. With input speech or "dtmf speech" on a
leg created with `sandbox_speech` the caller starts speaking key_interval s after the gather starts, speaks
for speech_word_s per word, then is silent: `gather_completed` reason speech after speech_timeout (auto:
1 s) with speech_result = sandbox_speech as given and confidence 1.0 (not recognised from audio). Without
sandbox_speech the caller says nothing: input speech times out; "dtmf speech" keys as for digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.domain.errors import Conflict, ValidationFailed
from legato.media.base import MediaEngine
from legato.media.gather import AUTO_SPEECH_TIMEOUT
from legato.network.sandbox_leg import SandboxLeg
from legato.speech import SpeechInputError, check_language, normalise_hints


@dataclass(frozen=True, slots=True)
class Gather:
    kind: ClassVar[str] = "gather"
    num_digits: int | None = None  # stop after this many digits
    timeout: float = 5.0  # seconds to wait for the first and each next digit
    finish_on_key: str | None = "#"  # the key that ends it (not part of the digits)
    input: str = "dtmf"  # dtmf | speech | dtmf speech
    speech_timeout: float | None = None  # seconds of silence that end speech (None: auto)
    hints: tuple[str, ...] = ()  # phrases the caller is likely to say (bias the recogniser)
    language: str = "en-US"  # the caller's language (BCP 47)
    silence_timeout: float | None = None  # also ends (reason silence) after this many s without voice or key
    far_end_speech: str | None = None  # the sandbox's far end says this (the leg's sandbox_speech)

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        speech = None
        if "speech" in self.input:
            speech = {"speech_timeout": self.speech_timeout, "hints": list(self.hints), "language": self.language}
        await engine.gather(leg_sid, self.num_digits, self.timeout, self.finish_on_key, self.input, speech,
                            self.silence_timeout)
        return {}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        if far_end.gather:
            raise Conflict("a gather is already running", field="action")
        if "speech" in self.input and (self.far_end_speech or self.input == "speech"):
            return self._speech(far_end)
        keys = (far_end.keys + "#") if far_end.keys else ""
        pressed: list[str] = []
        interval = far_end.delays.key_interval
        call_later = far_end.clock.call_later

        def finish(reason: str) -> None:
            for timer in far_end.gather:
                timer.cancel()
            far_end.gather = []
            far_end.emit("gather_completed", {"digits": "".join(pressed), "reason": reason})

        def press(key: str) -> None:
            far_end.emit("dtmf_received", {"digit": key, "source": "sandbox"})
            if self.finish_on_key and key == self.finish_on_key:
                finish("finish_on_key")
                return
            pressed.append(key)
            if self.num_digits is not None and len(pressed) >= self.num_digits:
                finish("num_digits")
                return
            far_end.gather[-1].cancel()  # the inter-digit timeout starts again
            far_end.gather[-1] = call_later(self.timeout, lambda: finish("timeout"))
            if self.silence_timeout is not None:  # a key is not silence
                far_end.gather[-2].cancel()
                far_end.gather[-2] = call_later(self.silence_timeout, lambda: finish("silence"))

        far_end.gather = [call_later(interval * (i + 1), lambda k=key: press(k)) for i, key in enumerate(keys)]
        if self.silence_timeout is not None:  # the simulated caller says nothing: silence ends it
            far_end.gather.append(call_later(self.silence_timeout, lambda: finish("silence")))
        far_end.gather.append(call_later(self.timeout + interval * len(keys), lambda: finish("timeout")))
        return {}

    def _speech(self, far_end: SandboxLeg) -> dict[str, Any]:
        """The simulated caller says the leg's sandbox_speech (or nothing: the gather times out)."""
        text = self.far_end_speech or ""

        def finish() -> None:
            far_end.gather = []
            data: dict[str, Any] = {"digits": "", "reason": "speech" if text else "timeout"}
            if text:
                data.update(speech_result=text, confidence=1.0)
            far_end.emit("gather_completed", data)

        if text:
            speaking = far_end.delays.key_interval + far_end.delays.speech_word_s * len(text.split())
            after = speaking + (self.speech_timeout or AUTO_SPEECH_TIMEOUT)
        else:
            after = self.timeout
        far_end.gather = [far_end.clock.call_later(after, finish)]
        return {}


async def _gather(request: Request, ctx: ActionContext) -> Gather:
    speech_timeout = request.speech_timeout
    return Gather(
        request.num_digits, 5.0 if request.timeout is None else request.timeout,
        "#" if request.finish_on_key is None else (request.finish_on_key or None), request.input or "dtmf",
        None if speech_timeout in (None, "auto") else float(speech_timeout), normalise_hints(request.hints),
        request.language or "en-US", request.silence_timeout, ctx.leg.extra.get("sandbox_speech"))


def check_speech_fields(request: Request) -> None:
    """400 naming the field for speech settings that are out of range or given without speech input."""
    if "speech" not in (request.input or "dtmf"):
        for name in ("speech_timeout", "hints", "language"):
            if getattr(request, name) is not None:
                raise ValidationFailed(f"{name} needs input speech or 'dtmf speech'", field=name)
        return
    timeout = request.speech_timeout
    if isinstance(timeout, float | int) and not 0 < timeout <= 60:
        raise ValidationFailed("speech_timeout must be within (0, 60] seconds or auto", field="speech_timeout")
    try:
        normalise_hints(request.hints)
    except SpeechInputError as exc:
        raise ValidationFailed(f"hints: {exc}", field="hints") from None
    if request.language is not None and not check_language(request.language):
        raise ValidationFailed(f"language {request.language} is not supported by the speech recogniser "
                               "(English: en, en-US, en-GB ...)", field="language")


def _seconds_or_auto(value: Any) -> Any:
    if value is None or value == "auto" or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise ValueError("must be a number of seconds or auto")


def _phrases(value: Any) -> Any:
    if value is None or isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return value
    raise ValueError("must be a list of strings or a comma-separated string")


ACTION = ActionSpec("gather", {
    "num_digits": (int | None, Field(None, ge=1, le=64, description="gather: stop after this many digits")),
    "timeout": (float | None, Field(None, gt=0, le=600,
                                    description="gather: seconds to wait for the first and each next digit")),
    "finish_on_key": (str | None, Field(None, pattern=r"^[0-9*#A-Da-d]?$",
                                        description="gather: key that ends it ('' for none; default #)")),
    "silence_timeout": (float | None, Field(
        None, gt=0, le=600, description="gather: also end it (reason silence) after this many seconds without "
                                        "voice or a key (a recording's silence rule)")),
    "input": (Literal["dtmf", "speech", "dtmf speech"] | None, Field(
        None, description="gather: what the caller may answer with (default dtmf)")),
    "speech_timeout": (Annotated[float | Literal["auto"] | None, BeforeValidator(_seconds_or_auto)], Field(
        None, description="gather with speech: seconds of silence that end the answer (0 < s <= 60), or auto")),
    "hints": (Annotated[list[str] | str | None, BeforeValidator(_phrases)], Field(
        None, description="gather with speech: words or phrases the caller is likely to say (a list or a "
                          "comma-separated string; at most 500, each up to 100 characters)")),
    "language": (str | None, Field(None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                   description="gather with speech: the caller's language (BCP 47, default en-US)")),
}, command=_gather, check=check_speech_fields)
