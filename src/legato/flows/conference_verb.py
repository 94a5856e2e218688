"""<Dial><Conference>NAME</Conference></Dial>: the leg joins the account's active conference of that name
(created when none is) through `ConferenceService`, and the flow goes on when the leg leaves it.

Twilio's attributes map onto the conference (`record="record-from-start"`, `maxParticipants`) and the
participant (`muted`, `coach`: a leg_sid to whisper to). `startConferenceOnEnter="false"` joins on hold until
a participant with `true` joins; `endConferenceOnExit="true"` stops the conference when this leg leaves it.
"""

from __future__ import annotations

from collections.abc import Awaitable

from pydantic import ValidationError

from legato.app.conferences import AddParticipant, ConferenceAction, CreateConference, ParticipantAction
from legato.domain.conference import MAX_PARTICIPANTS
from legato.domain.errors import LegatoError
from legato.flows.runner import Flow, LegGone
from legato.flows.twiml import FlowError, Verb

LEFT_CONFERENCE = "left_conference"  # the flow's own event (FlowHost.on_left): its leg left a conference
RECORDS = ("record-from-start", "do-not-record")


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
    await flow.answer()
    room = service.active_named(flow.account, name) or await service.create(
        flow.account, CreateConference(name=name, record=record == "record-from-start", max_participants=size)
    )
    sid = room.conference_sid
    waits = not starts and not flow.host.starts.has_started(room)
    try:
        request = AddParticipant(
            leg_sid=flow.leg_sid,
            muted=noun.flag("muted"),
            hold=waits,
            role="coach" if coach else "participant",
            coach_leg_sid=coach,
        )
        await service.add(flow.account, sid, request)
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
    gone = False
    try:
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


async def _quietly(step: Awaitable[object]) -> None:
    """Await a conference use-case whose refusal means there is nothing left to do (it ended, the leg left)."""
    try:
        await step
    except LegatoError:
        pass
