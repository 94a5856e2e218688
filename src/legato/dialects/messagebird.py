"""MessageBird Voice: a leg as a MessageBird `Leg`, a call as a MessageBird `Call` with its legs.

Schema: `legato/schemas/messagebird_leg.json` (the seed, unchanged). Timestamps are RFC 3339 in whole
seconds (`2017-02-16T10:52:00Z`) as MessageBird writes them. Numbers are written as E.164 digits without
`+` (MessageBird's `31612345678` style); SIP parties as their URI.

Leg fields

| MessageBird   | Legato source                                            |
|---------------|----------------------------------------------------------|
| id            | leg_sid                                                  |
| callId        | call_sid                                                 |
| source        | the calling party (exophone outbound, contact inbound)   |
| destination   | the called party (contact outbound, exophone inbound)    |
| status        | state / terminal_status, table below                     |
| direction     | outbound -> outgoing, inbound -> incoming                |
| duration      | Leg.duration() (s, answer to end, 0 if never answered)   |
| createdAt     | date_created                                             |
| updatedAt     | date_updated                                             |
| answeredAt    | answer_time (omitted until answered)                     |
| endedAt       | end_time (omitted until ended)                           |

Leg status

| Legato state / terminal_status         | MessageBird status |
|----------------------------------------|--------------------|
| created, enqueued, connecting          | starting           |
| ringing                                | ringing            |
| connected                              | ongoing            |
| terminal completed                     | hangup             |
| terminal canceled (hung up unanswered) | hangup             |
| terminal busy                          | busy               |
| terminal no-answer                     | no_answer          |
| terminal failed                        | failed             |

Call (`GET /calls/{id}` shape: `{"data": [Call]}`; Legato adds `legs`, MessageBird serves them at
`/calls/{id}/legs`): id = call_sid; status starting (no leg answered yet and some live), ongoing (a leg
is connected), ended (no live leg); source/destination = the master leg's; createdAt = master's
date_created; updatedAt = latest leg change; endedAt = last leg's end. MessageBird's `webhook` and
`_links` have no Legato source and are omitted.

Events: MessageBird documents no per-leg event body for this API; a leg whose `event_format` is
messagebird receives the `Leg` object as of the event (same fields as above).
"""

from __future__ import annotations

from typing import Any

from legato.dialects.conditions import Condition, condition
from legato.dialects.dialect import Dialect
from legato.dialects.parties import Party, parties
from legato.dialects.timestamps import rfc3339
from legato.domain.call import Call
from legato.domain.events import LegEvent
from legato.domain.leg import Direction, Leg, LegState, TerminalStatus

S, T = LegState, TerminalStatus
STATUS: dict[Condition, str] = {
    (S.CREATED, None): "starting",
    (S.ENQUEUED, None): "starting",
    (S.CONNECTING, None): "starting",
    (S.RINGING, None): "ringing",
    (S.CONNECTED, None): "ongoing",
    (S.TERMINAL, T.COMPLETED): "hangup",
    (S.TERMINAL, T.CANCELED): "hangup",
    (S.TERMINAL, T.BUSY): "busy",
    (S.TERMINAL, T.NO_ANSWER): "no_answer",
    (S.TERMINAL, T.FAILED): "failed",
}
DIRECTION: dict[Direction, str] = {Direction.OUTBOUND: "outgoing", Direction.INBOUND: "incoming"}


def status(leg: Leg) -> str:
    """The MessageBird leg status."""
    return STATUS[condition(leg)]


def _address(p: Party) -> str:
    if p.sip_uri:
        return p.sip_uri
    return p.e164.lstrip("+") if p.e164 else p.raw


def render_leg(leg: Leg) -> dict[str, Any]:
    """The MessageBird `Leg` object."""
    source, destination = parties(leg)
    body: dict[str, Any] = {
        "id": leg.leg_sid,
        "callId": leg.call_sid,
        "source": _address(source),
        "destination": _address(destination),
        "status": status(leg),
        "direction": DIRECTION[leg.direction],
        "duration": leg.duration(),
        "createdAt": rfc3339(leg.date_created, 0),
        "updatedAt": rfc3339(leg.date_updated, 0),
    }
    if leg.answer_time is not None:
        body["answeredAt"] = rfc3339(leg.answer_time, 0)
    if leg.end_time is not None:
        body["endedAt"] = rfc3339(leg.end_time, 0)
    return body


def call_status(call: Call) -> str:
    """MessageBird call status: starting, ongoing or ended."""
    if not call.is_live:
        return "ended"
    if any(leg.state is LegState.CONNECTED for leg in call.legs):
        return "ongoing"
    return "starting"


def render_call(call: Call) -> dict[str, Any]:
    """`{"data": [Call], "legs": [Leg...]}`: the call as `GET /calls/{id}` returns it, with its legs."""
    master = render_leg(call.master)
    body: dict[str, Any] = {
        "id": call.call_sid,
        "status": call_status(call),
        "source": master["source"],
        "destination": master["destination"],
        "createdAt": master["createdAt"],
        "updatedAt": rfc3339(call.date_updated, 0),
    }
    if call.end_time is not None:
        body["endedAt"] = rfc3339(call.end_time, 0)
    return {"data": [body], "legs": [render_leg(item) for item in call.legs]}


def render_event(event: LegEvent, snapshot: Leg) -> dict[str, Any]:
    """The body posted for a leg event: the `Leg` as it was at the event."""
    return render_leg(snapshot)


DIALECT = Dialect("messagebird", render_leg, lambda call, uri: render_call(call), render_event)
