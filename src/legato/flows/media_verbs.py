"""The verbs on a connected call's audio: Say, Play, Pause, Gather, Record (each through a leg action)."""

from __future__ import annotations

from collections.abc import Callable

from legato.domain.events import LegEvent
from legato.flows.params import recording_params
from legato.flows.runner import End, Flow, LegGone, Next
from legato.flows.twiml import FlowError, Verb

ESPEAK_LANGUAGES = frozenset(
    "af ar bg bn ca cs cy da de el en en-gb en-us eo es es-419 et eu fa fi fr fr-be ga gu he hi hr hu hy id is "
    "it ja ka kn ko lt lv mk ml mr ms nb ne nl pa pl pt pt-br ro ru sk sl sq sr sv sw ta te th tr uk ur vi "
    "yue zh".split()
)
FEMALE = ("woman", "alice")
RECORD_FINISH_KEYS = "1234567890*#"
SAY_TEXT = 2000  # characters one say action speaks (Twilio's <Say> takes up to 4096 to 5000: spoken in parts)


def espeak_voice(voice: str | None, language: str | None) -> str:
    """An espeak-ng voice for Twilio's `voice` and `language` (en-US -> en-us; woman/alice -> a female variant;
    a language espeak-ng lacks falls back to its base language, then to en-us)."""
    lang = (language or "en-US").strip().lower()
    if lang not in ESPEAK_LANGUAGES:
        lang = lang.split("-")[0] if lang.split("-")[0] in ESPEAK_LANGUAGES else "en-us"
    female = (voice or "").lower() in FEMALE or (voice or "").lower().endswith(("-female", "_female"))
    return lang + ("+f3" if female else "")


def prompt_parts(verb: Verb) -> list[Verb]:
    """A prompt as the say actions that speak it: a `Say` longer than one say action takes (SAY_TEXT) in parts cut
    at spaces, each spoken once, the whole `loop` times (0: up to 1000, as Twilio's); any other prompt as it is."""
    if verb.name != "Say" or len(verb.text) <= SAY_TEXT:
        return [verb]
    parts, text = [], verb.text
    while len(text) > SAY_TEXT:
        cut = text.rfind(" ", 1, SAY_TEXT + 1)
        cut = cut if cut > 0 else SAY_TEXT
        parts.append(text[:cut])
        text = text[cut:].lstrip()
    parts += [text] if text else []
    once = {**verb.attributes, "loop": "1"}
    return [Verb("Say", once, part) for _ in range(verb.integer("loop", 1, 0, 100) or 1000) for part in parts]


def played(play_id: object) -> Callable[[LegEvent], bool]:
    return lambda e: e.event_name == "play_completed" and e.data.get("play_id") == play_id


async def start_prompt(flow: Flow, verb: Verb) -> object | None:
    """Start a `Say` or `Play` (digits are sent to the end); its play_id, or None when nothing plays."""
    if verb.name == "Say":
        if not verb.text:
            return None
        voice = espeak_voice(verb.get("voice"), verb.get("language"))
        result = await flow.act("say", text=verb.text, loop=verb.integer("loop", 1, 0, 100), voice=voice)
        return result.get("play_id")
    digits = verb.get("digits")
    if digits:
        for index, part in enumerate(digits.split("w")):  # each w is half a second's pause, as Twilio's
            if index:
                await flow.sleep(0.5)
            if part:
                await flow.act("send_digits", digits=part)
                await flow.wait(lambda e: e.event_name == "digits_sent")
        return None
    if not verb.text:
        raise FlowError("verb", "Play", "<Play> needs a URL (or the digits attribute)")
    result = await flow.act("play", url=flow.resolve(verb.text, "Play"), loop=verb.integer("loop", 1, 0, 100))
    return result.get("play_id")


async def say(flow: Flow, verb: Verb) -> None:
    for part in prompt_parts(verb):
        play_id = await start_prompt(flow, part)
        if play_id is not None:
            await flow.wait(played(play_id))


play = say


async def pause(flow: Flow, verb: Verb) -> None:
    await flow.sleep(verb.integer("length", 1, 0, 600))


async def record(flow: Flow, verb: Verb) -> Next | End | None:
    max_length = verb.integer("maxLength", 3600, 1, 14_400)
    finish = verb.get("finishOnKey", RECORD_FINISH_KEYS) or ""
    silence = verb.integer("timeout", 5, 0, 600)  # seconds of silence that end it; 0: none
    transcribe = verb.flag("transcribe") or bool(verb.get("transcribeCallback"))
    beep, method = verb.flag("playBeep", True), verb.method()
    status = recording_status(flow, verb)  # checked before the recording starts
    started = await flow.act(
        "start_recording", direction="in", transcribe=True if transcribe else None, beep=True if beep else None
    )
    if status is not None:
        flow.host.callbacks.expect_recording(flow.leg, str(started.get("recording_id")), *status, "RecordVerb")
    flow.recording = True
    pressed, hung_up = await _record_until_key(flow, max_length, finish, silence)
    if not hung_up:
        await flow.act("stop_recording")
    flow.recording = False
    done = await flow.recording_completed(started.get("recording_id"), within=60)
    if done is None:
        return End() if hung_up else None
    params = recording_params(done.data)
    params["Digits"] = "hangup" if hung_up else pressed
    _transcription_callback(flow, verb, str(done.data.get("recording_id") or ""), params, transcribe)
    step = Next(flow.resolve(verb.get("action"), "Record.action"), method, params)
    if hung_up:  # Twilio still tells the action URL; what it answers cannot run on an ended call
        await flow.host.fetcher.fetch(flow.account.account_sid, step.url, step.method, {**flow.params(), **params})
        return End()
    return step


async def _record_until_key(flow: Flow, max_length: int, finish: str, silence: int) -> tuple[str, bool]:
    """Wait for a finishing key, `silence` seconds of silence (the gather's silence_timeout; 0: none) or
    maxLength: (the key, whether the caller hung up)."""
    deadline = flow.host.clock.now().timestamp() + max_length
    try:
        while (left := deadline - flow.host.clock.now().timestamp()) > 0:
            if not finish and not silence:
                await flow.wait(lambda e: False, within=left)
                break
            await flow.act(
                "gather",
                num_digits=1,
                timeout=max(1, min(600, int(left))),
                finish_on_key="",
                silence_timeout=silence or None,
            )
            done = await flow.wait(lambda e: e.event_name == "gather_completed")
            key = str(done.data.get("digits") or "") if done else ""
            if done is not None and done.data.get("reason") == "silence":
                return "", False
            if key and key in finish:
                return key, False
        return "", False
    except LegGone:
        return "", True


def recording_status(flow: Flow, verb: Verb) -> tuple[str, str] | None:
    """A verb's recordingStatusCallback (Record, Dial): its URL and method, or None."""
    url = verb.get("recordingStatusCallback")
    method = verb.method("recordingStatusCallbackMethod")
    return (flow.resolve(url, f"{verb.name}.recordingStatusCallback"), method) if url else None


def _transcription_callback(
    flow: Flow, verb: Verb, recording_id: str, params: dict[str, str], transcribe: bool
) -> None:
    target = verb.get("transcribeCallback")
    if transcribe and target:
        flow.host.callbacks.expect_transcription(
            flow.leg, recording_id, flow.resolve(target, "Record.transcribeCallback"), params
        )
