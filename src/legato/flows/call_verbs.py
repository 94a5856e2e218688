"""The verbs of call control: Dial (a second leg, bridged), Redirect, Hangup, Reject."""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from legato.app.bridges import CreateBridge
from legato.app.legs import CreateLeg, LegAction
from legato.domain.errors import Conflict, LegatoError, ValidationFailed
from legato.domain.events import LegEvent
from legato.domain.leg import FLOW_PARENT_KEY, Leg, LegState
from legato.flows.conference_verb import join
from legato.flows.media_verbs import recording_status
from legato.flows.params import call_status, recording_sid
from legato.flows.runner import End, Flow, LegGone, Next
from legato.flows.twiml import FlowError, Verb

RECORD_DIAL = ("record-from-answer", "record-from-ringing", "record-from-answer-dual", "record-from-ringing-dual")


async def redirect(flow: Flow, verb: Verb) -> Next:
    return Next(flow.resolve(verb.text or None, "Redirect"), verb.method())


async def hangup(flow: Flow, verb: Verb) -> End:
    await flow.act("hangup")
    return End()


async def reject(flow: Flow, verb: Verb) -> End:
    reason = verb.get("reason") or "rejected"
    if reason not in ("rejected", "busy"):
        raise FlowError("attribute", "Reject.reason", f"Reject reason={reason!r}: rejected or busy")
    await flow.act("hangup", reason=reason if flow.leg.state is LegState.RINGING else None)
    return End()


MAX_TARGETS = 10  # nouns one <Dial> rings at once (Twilio's limit)


def _targets(verb: Verb) -> list[Verb]:
    """The nouns to ring at once (a number given as the Dial's text is a Number)."""
    nouns = list(verb.children) or ([] if not verb.text else [Verb("Number", text=verb.text)])
    if not nouns:
        raise FlowError("verb", "Dial", "<Dial> needs a number, a <Number> or a <Sip>")
    if any(noun.name == "Conference" for noun in nouns) and len(nouns) > 1:
        raise FlowError("verb", "Dial", "<Dial> takes one <Conference> and nothing else")
    if len(nouns) > MAX_TARGETS:
        raise FlowError("verb", "Dial", f"<Dial> rings at most {MAX_TARGETS} numbers at once")
    for noun in nouns:
        if not noun.text:
            raise FlowError("noun", noun.name, f"<{noun.name}> needs a number or URI")
    return nouns


def _request(flow: Flow, verb: Verb, noun: Verb, parent: Leg) -> CreateLeg:
    """The dialled leg, with the noun's own status callbacks (Twilio's Number/Sip statusCallback)."""
    timeout = verb.integer("timeout", 30, 1, 600)
    sip = noun.name == "Sip" or noun.text.lower().startswith(("sip:", "sips:"))
    callback = noun.get("statusCallback")
    try:
        return CreateLeg(
            contact_uri=noun.text,
            exophone=verb.get("callerId") or parent.exophone,
            network_type="voip" if sip else "pstn",
            timeout=timeout,
            ring_timeout=timeout,
            time_limit=verb.integer("timeLimit", 14_400, 1, 86_400),
            reference_leg_sid=parent.leg_sid,
            status_callback=flow.resolve(callback, f"{noun.name}.statusCallback") if callback else None,
            status_callback_event=(noun.get("statusCallbackEvent") or "completed").split() if callback else None,
            status_callback_method=noun.method("statusCallbackMethod"),
        )
    except ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0])
        raise FlowError("attribute", f"{noun.name}.{where}", f"<{noun.name}>: {exc.errors()[0]['msg']}") from None


async def dial(flow: Flow, verb: Verb) -> Next | End | None:
    nouns, method = _targets(verb), verb.method()
    record = verb.get("record", "do-not-record")
    if record not in (*RECORD_DIAL, "do-not-record", "true", "false"):
        raise FlowError("attribute", "Dial.record", f"Dial record={record!r} is not a recording mode")
    if nouns[0].name == "Conference":
        params, parent_gone = await join(flow, nouns[0])
    else:
        await flow.answer()
        recording = (record in RECORD_DIAL or record == "true", recording_status(flow, verb))
        params, parent_gone = await _ring(flow, verb, nouns, recording)
    action = verb.get("action")
    step = Next(flow.resolve(action, "Dial.action"), method, params) if action else None
    if parent_gone:  # Twilio tells the action URL; what it answers cannot run on an ended call
        if step is not None:
            await flow.host.fetcher.fetch(flow.account.account_sid, step.url, step.method, {**flow.params(), **params})
        return End()
    return step


async def _ring(
    flow: Flow, verb: Verb, nouns: list[Verb], record: tuple[bool, tuple[str, str] | None]
) -> tuple[dict[str, str], bool]:
    """Place a leg per noun and bridge the first to answer: (the action's params, the parent ended)."""
    parent = flow.leg
    events: asyncio.Queue[tuple[Leg, LegEvent]] = asyncio.Queue()
    children: dict[str, str] = {}  # leg_sid -> the digits to send it once it answers (Number sendDigits)
    try:
        for noun in nouns:
            try:
                child = await flow.host.legs.create(
                    flow.account,
                    _request(flow, verb, noun, parent),
                    internal=True,
                    extra={FLOW_PARENT_KEY: parent.leg_sid},
                )
            except ValidationFailed as exc:
                field = "Dial.callerId" if exc.field == "exophone" else f"{noun.name}.{exc.field}"
                raise FlowError("attribute", field, exc.message) from None
            flow.host.watch(child.leg_sid, events)
            children[child.leg_sid] = (noun.get("sendDigits") or "").replace("w", "")
        return await _connect(flow, children, events, record)
    except BaseException:  # a bad noun, or the flow was redirected: what was dialled goes, as on Twilio
        for sid in children:
            await _hang_up(flow, sid)
        raise
    finally:
        for sid in children:
            flow.host.unwatch(sid)


async def _answered(
    events: asyncio.Queue[tuple[Leg, LegEvent]], parent_end: asyncio.Future[object], children: list[str]
) -> tuple[Leg | None, str]:
    """The first dialled leg to answer (the others are hung up), or None and the Twilio status of the last to
    end ('canceled' when the parent ended first)."""
    ringing, status = set(children), "failed"
    while ringing:
        got = await _first(events, parent_end, ("leg_answered", "leg_terminated"))
        if got is None:
            return None, "canceled"
        leg, event = got
        if leg.leg_sid not in ringing:
            continue
        ringing.discard(leg.leg_sid)
        if event.event_name == "leg_answered":
            return leg, "completed"
        status = call_status(leg)
    return None, status


async def _connect(
    flow: Flow,
    children: dict[str, str],
    events: asyncio.Queue[tuple[Leg, LegEvent]],
    record: tuple[bool, tuple[str, str] | None],
) -> tuple[dict[str, str], bool]:
    """Ring the dialled legs; bridge the first to answer until one side ends: (params, parent ended). `record`:
    whether to record the bridged call, and where its recordingStatusCallback goes."""
    params = {"DialCallSid": next(iter(children)), "DialBridged": "false"}
    parent_end = asyncio.ensure_future(flow.wait(lambda e: False))  # raises LegGone when the parent ends
    try:
        winner, status = await _answered(events, parent_end, list(children))
        for sid in children:
            if winner is None or sid != winner.leg_sid:
                await _hang_up(flow, sid)
        params["DialCallStatus"] = status
        if winner is None:
            return params, status == "canceled"
        params["DialCallSid"] = winner.leg_sid
        if children[winner.leg_sid]:
            try:
                await flow.host.legs.act(
                    flow.account, winner.leg_sid, LegAction(action="send_digits", digits=children[winner.leg_sid])
                )
            except LegatoError:
                pass  # it hung up meanwhile: the bridge below says so
        recording = await flow.act("start_recording", direction="both") if record[0] else None
        flow.recording = recording is not None
        if recording is not None and record[1] is not None:
            flow.host.callbacks.expect_recording(flow.leg, str(recording.get("recording_id")), *record[1], "DialVerb")
        try:
            await flow.host.bridges.create(
                flow.account, CreateBridge(leg_sids=[flow.leg_sid, winner.leg_sid], end_on_exit=False)
            )
        except Conflict:
            if not winner.is_terminal:
                raise
            return params, False  # it hung up before it could be bridged: completed, not bridged
        params["DialBridged"] = "true"
        ended = None
        while ended is None or ended[0].leg_sid != winner.leg_sid:
            ended = await _first(events, parent_end, ("leg_terminated",))
            if ended is None:
                break
        parent_end.cancel()  # the parent's own events matter again (its recording's end)
        if ended is None:  # the caller hung up: the dialled leg is hung up, and its duration still told (Twilio's)
            await _hang_up(flow, winner.leg_sid)
            gone = await _terminated(events, winner.leg_sid)
            if gone is not None:
                params["DialCallDuration"] = str(gone.duration())
        else:
            params["DialCallDuration"] = str(ended[0].duration())
        if recording is not None and ended is not None:
            await flow.act("stop_recording")
            flow.recording = False
            done = await flow.recording_completed(recording.get("recording_id"), within=60)
            if done is not None:
                params["RecordingUrl"] = str(done.data.get("recording_url") or "")
                params["RecordingSid"] = recording_sid(done.data)
        return params, ended is None
    finally:
        parent_end.cancel()


async def _first(
    events: asyncio.Queue[tuple[Leg, LegEvent]], parent_end: asyncio.Future[object], names: tuple[str, ...]
) -> tuple[Leg, LegEvent] | None:
    """The dialled leg's next event named in `names` (with the leg), or None when the parent leg ended first."""
    while True:
        getting = asyncio.ensure_future(events.get())
        await asyncio.wait((getting, parent_end), return_when=asyncio.FIRST_COMPLETED)
        if not getting.done():
            getting.cancel()
            if isinstance(parent_end.exception(), LegGone):
                return None
            parent_end.result()  # anything else is raised
        leg, event = getting.result()
        if event.event_name in names:
            return leg, event


async def _terminated(events: asyncio.Queue[tuple[Leg, LegEvent]], leg_sid: str, within: float = 10.0) -> Leg | None:
    """The dialled leg as it ended (its leg_terminated), or None when that does not come `within` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                leg, event = await events.get()
                if leg.leg_sid == leg_sid and event.event_name == "leg_terminated":
                    return leg
    except TimeoutError:
        return None


async def _hang_up(flow: Flow, leg_sid: str) -> None:
    try:
        await flow.host.legs.act(flow.account, leg_sid, LegAction(action="hangup"))
    except LegatoError:
        pass  # it ended meanwhile
