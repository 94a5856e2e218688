"""Telefonie Voice: a leg as a Telefonie `Call` (Twilio-style: every leg is a call resource).

Schema: `legato/schemas/telefonie_call.json` (the seed, unchanged). `from` and `to` must be E.164: a SIP
party is written as the E.164 number in its user part (`sip:+919163816621@host`); a SIP party with no
number cannot be shown and raises `NotRepresentable` (409). Timestamps are RFC 3339 with milliseconds.

| Telefonie       | Legato source                                                              |
|-----------------|----------------------------------------------------------------------------|
| id              | leg_sid (Telefonie says "UUID format"; Legato ids are KSUID-like, kept)    |
| status          | state / terminal_status, table below                                       |
| direction       | direction (inbound / outbound, same words)                                 |
| from            | calling party E.164 (exophone outbound, contact inbound)                   |
| to              | called party E.164 (contact outbound, exophone inbound)                    |
| duration        | Leg.duration() in s; only once the leg has ended ("after completion")      |
| start_time      | answer_time (Telefonie: "when the call was answered"); omitted until then  |
| end_time        | end_time; omitted until ended                                              |
| price           | extra["price"] negated (a charge is negative), e.g. "-0.01350"; omitted    |
|                 | until a price is computed when the leg ends                                |
| price_unit      | extra["price_unit"] (ISO 4217); with price                                 |
| recording_url   | extra["recording_url"] when a recording exists; omitted otherwise          |
| url             | the leg's call flow URL (flow_url, or its number's flow); omitted without  |
| status_callback | the leg's status_callback, else leg_event_endpoint when it is an http(s)   |
|                 | URL; gRPC endpoints are omitted                                            |
| answered_by     | AMD verdict, table below; omitted when AMD was not enabled                 |

Status

| Legato state / terminal_status   | Telefonie status |
|----------------------------------|------------------|
| created, enqueued, connecting    | queued (not yet alerting; Telefonie has no dialing status) |
| ringing                          | ringing          |
| connected                        | in-progress      |
| terminal completed               | completed        |
| terminal busy                    | busy             |
| terminal no-answer               | no-answer        |
| terminal failed                  | failed           |
| terminal canceled                | canceled         |

answered_by (only when amd_enable)

| Legato answered_by            | Telefonie answered_by |
|-------------------------------|-----------------------|
| HUMAN                         | human                 |
| MACHINE, BEEP                 | machine               |
| none, after the leg answered  | unknown               |
| none, never answered          | omitted               |

Status callbacks: Telefonie documents no separate callback body; a leg whose `event_format` is telefonie
receives the `Call` object as of the event. A call with several legs is `{"calls": [Call, ...]}`,
master leg first (Telefonie's list shape).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from legato.dialects.conditions import Condition, condition
from legato.dialects.dialect import Dialect
from legato.dialects.parties import Party, parties
from legato.dialects.timestamps import rfc3339
from legato.domain.call import Call
from legato.domain.errors import NotRepresentable
from legato.domain.events import LegEvent
from legato.domain.leg import FLOW_KEY, AnsweredBy, Leg, LegState, TerminalStatus
from legato.domain.prices import stored_price

S, T = LegState, TerminalStatus
STATUS: dict[Condition, str] = {
    (S.CREATED, None): "queued",
    (S.ENQUEUED, None): "queued",
    (S.CONNECTING, None): "queued",
    (S.RINGING, None): "ringing",
    (S.CONNECTED, None): "in-progress",
    (S.TERMINAL, T.COMPLETED): "completed",
    (S.TERMINAL, T.BUSY): "busy",
    (S.TERMINAL, T.NO_ANSWER): "no-answer",
    (S.TERMINAL, T.FAILED): "failed",
    (S.TERMINAL, T.CANCELED): "canceled",
}
ANSWERED_BY: dict[AnsweredBy | None, str] = {
    AnsweredBy.HUMAN: "human",
    AnsweredBy.MACHINE: "machine",
    AnsweredBy.BEEP: "machine",
    None: "unknown",
}


def status(leg: Leg) -> str:
    """The Telefonie call status."""
    return STATUS[condition(leg)]


def answered_by(leg: Leg) -> str | None:
    """human / machine / unknown, or None when AMD was off or the leg never answered."""
    if not leg.amd_enable or leg.answer_time is None:
        return None
    return ANSWERED_BY[leg.answered_by]


def price(leg: Leg) -> tuple[str, str] | None:
    """(price, price_unit): the stored cost as Telefonie's negative decimal string, or None."""
    stored = stored_price(leg)
    if stored is None:
        return None
    return format(-stored.amount if stored.amount else stored.amount, "f"), stored.currency


def _e164(p: Party, field: str, leg: Leg) -> str:
    if p.e164 is None:
        raise NotRepresentable(f"leg {leg.leg_sid} cannot be shown as a Telefonie call: its {field} party "
                               f"{p.raw!r} has no E.164 number", field=field)
    return p.e164


def _http_url(value: str | None) -> str | None:
    if value and urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc:
        return value
    return None


def render_leg(leg: Leg) -> dict[str, Any]:
    """The Telefonie `Call` object for one leg."""
    caller, called = parties(leg)
    body: dict[str, Any] = {
        "id": leg.leg_sid,
        "status": status(leg),
        "direction": leg.direction.value,
        "from": _e164(caller, "from", leg),
        "to": _e164(called, "to", leg),
    }
    if leg.is_terminal:
        body["duration"] = leg.duration()
    if leg.answer_time is not None:
        body["start_time"] = rfc3339(leg.answer_time)
    if leg.end_time is not None:
        body["end_time"] = rfc3339(leg.end_time)
    priced = price(leg)
    if priced is not None:
        body["price"], body["price_unit"] = priced
    if leg.extra.get("recording_url"):
        body["recording_url"] = leg.extra["recording_url"]
    flow = leg.extra.get(FLOW_KEY) or {}
    if flow.get("url"):
        body["url"] = flow["url"]
    callback = _http_url(flow.get("status_callback")) or _http_url(leg.leg_event_endpoint)
    if callback is not None:
        body["status_callback"] = callback
    verdict = answered_by(leg)
    if verdict is not None:
        body["answered_by"] = verdict
    return body


def render_call(call: Call) -> dict[str, Any]:
    """`{"calls": [Call, ...]}`: every leg of the call, master first."""
    return {"calls": [render_leg(leg) for leg in call.legs]}


def render_event(event: LegEvent, snapshot: Leg) -> dict[str, Any]:
    """The status callback body: the `Call` as it was at the event."""
    return render_leg(snapshot)


DIALECT = Dialect("telefonie", render_leg, lambda call, uri: render_call(call), render_event)
