"""<Conference waitUrl>: what a participant that waits for its conference to start hears (it joined with
startConferenceOnEnter="false" and is held until a participant with "true" joins).

The URL is requested with `waitMethod` (POST by default) through the flow's `Fetcher`, so every connection goes to an
address the endpoint policy allows. An audio answer (Content-Type audio/*) is played in a loop with the leg's `play`
action (the URL then follows `play`'s rules: a WAV under an allowed URL prefix). A TwiML answer's <Play>, <Say> and
<Pause> run in a loop (relative URLs against the waitUrl); <Redirect> fetches the next wait document. An empty
waitUrl, and no waitUrl at all, is silence: Legato ships no hold music (Twilio's default is its own). A wait
document that cannot be fetched or run is reported as a `flow_error` and the participant waits in silence.
Everything stops when the conference starts (`STARTED`, told by the starter's flow) or the leg leaves it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

from legato.domain.errors import LegatoError
from legato.domain.events import LegEvent
from legato.flows.media_verbs import played, start_prompt
from legato.flows.runner import Flow, LegGone
from legato.flows.twiml import FlowError, Verb, parse

LEFT_CONFERENCE = "left_conference"  # the flow's own event (FlowHost.on_left): its leg left a conference
STARTED = "waited_conference_started"  # the flow's own event (FlowHost.tell): the conference it waits in started
WAIT_VERBS = frozenset({"Play", "Say", "Pause", "Redirect"})
MAX_REDIRECTS = 10  # wait documents fetched in a row with nothing heard in between (a loop of redirects)


async def wait_for_start(flow: Flow, conference_sid: str, url: str | None, method: str) -> bool:
    """Play the wait audio until the conference starts (False) or the leg leaves it (True)."""

    def ours(event: LegEvent) -> bool:
        return event.event_name in (STARTED, LEFT_CONFERENCE) and event.data.get("conference_sid") == conference_sid

    try:
        event = await _play_until(flow, url, method, ours) if url else None
    except FlowError as error:
        flow.report(error)
        event = None
    except LegatoError as exc:  # play refused the URL (not an allowed prefix, not a WAV)
        flow.report(FlowError("attribute", "Conference.waitUrl", f"<Conference> waitUrl: {exc.message}"))
        event = None
    if event is None:  # silence until something happens
        event = await flow.wait(ours)
    return event is not None and event.event_name == LEFT_CONFERENCE


async def _play_until(flow: Flow, url: str, method: str, ours: Callable[[LegEvent], bool]) -> LegEvent | None:
    """Run the wait audio until an event `ours` comes (returned, the audio stopped); None when there is nothing to
    play (the caller waits in silence)."""
    verbs = await _document(flow, url, method)
    if verbs is None:  # an audio file: played until stopped
        return await _loop_audio(flow, url, ours)
    idle = 0  # redirects in a row with nothing heard in between
    while True:
        heard = False
        redirect: Verb | None = None
        while redirect is None:
            for verb in verbs:
                if verb.name == "Redirect":
                    redirect = verb
                    break
                event, ran = await _run(flow, verb, url, ours)
                if event is not None:
                    return event
                heard = heard or ran
            if redirect is None and not heard:
                return None  # nothing in it takes time: a loop would spin
        idle = 0 if heard else idle + 1
        if idle > MAX_REDIRECTS:
            raise FlowError("document", "Redirect", f"a <Conference> waitUrl redirected {idle} times, playing nothing")
        url = urljoin(url, redirect.text) if redirect.text else url
        method = redirect.method()
        verbs = await _document(flow, url, method)
        if verbs is None:
            return await _loop_audio(flow, url, ours)


async def _loop_audio(flow: Flow, url: str, ours: Callable[[LegEvent], bool]) -> LegEvent | None:
    """Play the audio at `url` in a loop until an event `ours` comes (None if the play ended otherwise)."""
    play_id = (await flow.act("play", url=url, loop=0)).get("play_id")
    event = await _until(flow, ours, played(play_id))
    return event if ours(event) else None


async def _document(flow: Flow, url: str, method: str) -> list[Verb] | None:
    """The wait document's verbs, None when the URL answered audio; FlowError when it cannot be fetched or run."""
    body = await flow.host.fetcher.fetch_wait(flow.account.account_sid, url, method, flow.params())
    if body is None:
        return None
    verbs = parse(body)
    for verb in verbs:
        if verb.name not in WAIT_VERBS:
            raise FlowError("verb", verb.name, f"<{verb.name}> cannot run in a <Conference> waitUrl document")
    return verbs


async def _run(
    flow: Flow, verb: Verb, base: str, ours: Callable[[LegEvent], bool]
) -> tuple[LegEvent | None, bool]:
    """One wait verb: (an event `ours` that came meanwhile, whether the verb took time)."""
    if verb.name == "Pause":
        length = verb.integer("length", 1, 0, 600)
        return (await flow.wait(ours, within=length) if length else None), length > 0
    if verb.name == "Play":
        if not verb.text:
            return None, False
        loop = verb.integer("loop", 1, 0, 100)
        play_id = (await flow.act("play", url=urljoin(base, verb.text), loop=loop)).get("play_id")
    else:
        play_id = await start_prompt(flow, verb)
    if play_id is None:
        return None, False
    event = await _until(flow, ours, played(play_id))
    return (event if ours(event) else None), True


async def _until(flow: Flow, ours: Callable[[LegEvent], bool], done: Callable[[LegEvent], bool]) -> LegEvent:
    """Wait for an event `ours` (the prompt playing is stopped) or `done` (the prompt finished)."""
    event = await flow.wait(lambda e: ours(e) or done(e))
    assert event is not None
    if ours(event) and not done(event):
        try:
            await flow.act("stop_play")
        except (LegatoError, LegGone, FlowError):
            pass
    return event
