"""`<Gather>`: its prompts, then the `gather` leg action; a key pressed during a prompt stops it (barge-in)
and counts as the first digit, as on Twilio."""

from __future__ import annotations

from legato.domain.errors import Conflict
from legato.domain.events import LegEvent
from legato.flows.media_verbs import played, prompt_parts, start_prompt
from legato.flows.runner import Flow, Next
from legato.flows.twiml import FlowError, Verb


def _key(event: LegEvent) -> bool:
    return event.event_name == "dtmf_received"


async def _prompts(flow: Flow, prompts: tuple[Verb, ...], listen: bool) -> str:
    """Play the nested prompts in order; with `listen`, the first key pressed stops them: that key, or ''."""
    for prompt in [part for verb in prompts for part in prompt_parts(verb)]:
        if prompt.name == "Pause":
            length = prompt.integer("length", 1, 0, 600)
            key = await flow.wait(_key, within=length) if listen else await flow.sleep(length)
        else:
            play_id = await start_prompt(flow, prompt)
            if play_id is None:
                continue
            ended = played(play_id)
            key = await flow.wait(lambda e, ended=ended: ended(e) or (listen and _key(e)))
            if key is not None and _key(key):
                await flow.act("stop_play")
                await flow.wait(ended, within=5)
            else:
                key = None
        if key is not None:
            return str(key.data.get("digit") or "")
    return ""


def _fields(verb: Verb, inputs: list[str]) -> dict[str, object]:
    fields: dict[str, object] = {
        "num_digits": verb.integer("numDigits", 0, 0, 64) or None,
        "timeout": verb.integer("timeout", 5, 1, 600),
        "finish_on_key": verb.get("finishOnKey", "#"),
    }
    if "speech" in inputs:  # the speech recogniser's gather fields
        # speechTimeout="auto" (Twilio's end-of-speech detection) leaves the recogniser's own default
        auto = verb.get("speechTimeout") in (None, "", "auto")
        speech_timeout = None if auto else verb.integer("speechTimeout", 0, 1, 600)
        fields.update(
            input=" ".join(inputs),
            hints=verb.get("hints"),
            language=verb.get("language"),
            speech_timeout=speech_timeout,
        )
    return fields


async def _listen(flow: Flow, fields: dict[str, object]) -> dict[str, object]:
    """Run the gather action; the data of its gather_completed."""
    try:
        await flow.act("gather", **fields)
    except Conflict:  # a redirect left the previous flow's gather running: let it end, then start ours
        await flow.wait(lambda e: e.event_name == "gather_completed", within=610)
        await flow.act("gather", **fields)
    done = await flow.wait(lambda e: e.event_name == "gather_completed")
    assert done is not None
    return dict(done.data)


async def gather(flow: Flow, verb: Verb) -> Next | None:
    inputs = (verb.get("input") or "dtmf").split()
    if not inputs or set(inputs) - {"dtmf", "speech"}:
        raise FlowError("attribute", "Gather.input", f"Gather input={verb.get('input')!r}: dtmf, speech or both")
    fields, method = _fields(verb, inputs), verb.method()
    # bargeIn (Twilio's, default true): a key stops the nested prompts; false: they play to their end
    first = await _prompts(flow, verb.children, "dtmf" in inputs and verb.flag("bargeIn", True))
    finish, wanted = fields["finish_on_key"], fields["num_digits"]
    if first and first == finish:
        result: dict[str, object] = {"digits": "", "reason": "finish_on_key"}
    elif first and wanted == 1:
        result = {"digits": first, "reason": "num_digits"}
    else:
        if first and isinstance(wanted, int):
            fields["num_digits"] = wanted - 1
        result = await _listen(flow, fields)
        result["digits"] = first + str(result.get("digits") or "")
    digits, speech = str(result["digits"]), result.get("speech_result")
    if not digits and not speech and not verb.flag("actionOnEmptyResult"):
        return None  # nothing entered: on to the next verb, as Twilio does
    params = {"Digits": digits} if "dtmf" in inputs else {}
    if result.get("reason") == "finish_on_key":
        params["FinishedOnKey"] = str(finish or "")
    if speech:
        params.update(SpeechResult=str(speech), Confidence=str(result.get("confidence", "")))
    return Next(flow.resolve(verb.get("action"), "Gather.action"), method, params)
