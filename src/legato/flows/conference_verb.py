"""<Dial><Conference>NAME</Conference></Dial>: the leg joins the account's active conference of that name
(created when none is) through `ConferenceService`, and the flow goes on when the leg leaves it.

Twilio's attributes map onto the conference (`record="record-from-start"`, `maxParticipants`) and the
participant (`muted`, `coach`: a leg_sid to whisper to). `startConferenceOnEnter="false"` joins on hold until
a participant with `true` joins; `endConferenceOnExit="true"` stops the conference when this leg leaves it.
`beep` (true, the default, false, onEnter, onExit) plays the conference's entry tone when this leg joins and/or its
exit tone when it leaves. A waiting leg hears its `waitUrl` (fetched with `waitMethod`, flows/conference_wait.py)
until the conference starts. `statusCallback` (with `statusCallbackEvent`, `statusCallbackMethod`) of the leg that
creates the conference makes its events Twilio's conference callbacks (dialects/twilio_conferences.py), delivered
through the outbox like every event; as on Twilio, later participants' values are ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable

from pydantic import ValidationError

from legato.app.conferences import AddParticipant, ConferenceAction, CreateConference, ParticipantAction
from legato.dialects.twilio_conferences import DEFAULT_EVENTS, EVENTS
from legato.domain.conference import BEEPS, MAX_PARTICIPANTS
from legato.domain.errors import LegatoError
from legato.flows.conference_wait import LEFT_CONFERENCE, STARTED, wait_for_start
from legato.flows.runner import Flow, LegGone
from legato.flows.twiml import FlowError, Verb

__all__ = ["LEFT_CONFERENCE", "join"]
RECORDS = ("record-from-start", "do-not-record")
_BEEPS = {b.lower(): b for b in BEEPS}


async def join(flow: Flow, noun: Verb) -> tuple[dict[str, str], bool]:
    """Join the conference and stay until the leg leaves it: (the Dial action's params, the leg ended)."""
    service = flow.host.conferences
    if service is None:
        raise FlowError("unsupported", "Conference", "this server runs no conferences")
    name = noun.text
    if len(name) > 128:
        raise FlowError("noun", "Conference", "<Conference> takes a name of 1-128 characters")
    record = noun.get("record") or "do-not-record"
    if record not in RECORDS:
        raise FlowError("attribute", "Conference.record", f"Conference record={record!r}: one of {', '.join(RECORDS)}")
    size = noun.integer("maxParticipants", MAX_PARTICIPANTS, 2, MAX_PARTICIPANTS)
    starts, ends = noun.flag("startConferenceOnEnter", True), noun.flag("endConferenceOnExit")
    coach = noun.get("coach") or None
    beep = _BEEPS.get((noun.get("beep") or "true").strip().lower())
    if beep is None:
        message = f"Conference beep={noun.get('beep')!r}: one of {', '.join(BEEPS)}"
        raise FlowError("attribute", "Conference.beep", message)
    wait_url, wait_method = _wait(flow, noun)
    callback = _status_callback(flow, noun)
    await flow.answer()
    room = service.active_named(flow.account, name)
    if room is None:
        try:
            create = CreateConference(
                name=name,
                record=record == "record-from-start",
                max_participants=size,
                conference_event_endpoint=callback[0] if callback else None,
            )
            room = await service.create(flow.account, create, callback[1] if callback else None)
        except (ValidationError, LegatoError) as exc:
            problem = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc.message
            message = f"<Conference> statusCallback: {problem}"
            raise FlowError("attribute", "Conference.statusCallback", message) from None
    sid = room.conference_sid
    waits = not starts and not flow.host.starts.has_started(room)
    try:
        request = AddParticipant(
            leg_sid=flow.leg_sid,
            muted=noun.flag("muted"),
            hold=waits,
            role="coach" if coach else "participant",
            coach_leg_sid=coach,
            beep=beep,
        )
        await service.add(flow.account, sid, request, start_on_enter=starts, end_on_exit=ends)
    except ValidationError as exc:
        raise FlowError("attribute", "Conference.coach", f"<Conference> coach: {exc.errors()[0]['msg']}") from None
    except LegatoError as exc:
        if exc.field == "coach_leg_sid":
            raise FlowError("attribute", "Conference.coach", f"<Conference> coach: {exc.message}") from None
        raise FlowError("verb", "Conference", f"<Conference>: {exc.message}") from None
    joined = flow.host.clock.now()
    if waits:
        flow.host.starts.wait(sid, flow.leg_sid)
    elif starts:
        for waiting in flow.host.starts.start(sid):
            await _quietly(service.act_on_participant(flow.account, sid, waiting, ParticipantAction(action="unhold")))
            flow.host.tell(waiting, STARTED, {"conference_sid": sid})
    gone = False
    try:
        left = waits and await wait_for_start(flow, sid, wait_url, wait_method)
        if not left:
            await flow.wait(lambda e: e.event_name == LEFT_CONFERENCE and e.data.get("conference_sid") == sid)
    except LegGone:
        gone = True
    except BaseException:  # redirected: the leg leaves the conference (as on Twilio)
        await _quietly(service.act_on_participant(flow.account, sid, flow.leg_sid, ParticipantAction(action="remove")))
        if ends:
            await _quietly(service.act(flow.account, sid, ConferenceAction(action="stop")))
        raise
    if ends:
        await _quietly(service.act(flow.account, sid, ConferenceAction(action="stop")))
    seconds = int((flow.host.clock.now() - joined).total_seconds())
    return {"DialCallStatus": "completed", "DialCallDuration": str(seconds), "ConferenceSid": sid}, gone


def _wait(flow: Flow, noun: Verb) -> tuple[str | None, str]:
    """waitUrl (resolved; None or "": silence) and waitMethod (POST or GET)."""
    method = noun.method("waitMethod")
    url = (noun.get("waitUrl") or "").strip()
    return (flow.resolve(url, "Conference.waitUrl") if url else None), method


def _status_callback(flow: Flow, noun: Verb) -> tuple[str, dict[str, object]] | None:
    """statusCallback's URL (relative ones resolved, no fragment) and the conference's `status_callback`."""
    url = noun.get("statusCallback")
    if not url:
        return None
    target = flow.resolve(url, "Conference.statusCallback").partition("#")[0]
    events = (noun.get("statusCallbackEvent") or "").replace(",", " ").split() or list(DEFAULT_EVENTS)
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise FlowError(
            "attribute",
            "Conference.statusCallbackEvent",
            f"Conference statusCallbackEvent {unknown[0]!r}: one of {', '.join(EVENTS)}",
        )
    method = noun.method("statusCallbackMethod")
    return target, {"events": events, "method": method}


async def _quietly(step: Awaitable[object]) -> None:
    """Await a conference use-case whose refusal means there is nothing left to do (it ended, the leg left)."""
    try:
        await step
    except LegatoError:
        pass
