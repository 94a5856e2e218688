"""RingCentral call log: a leg as `CallLogRecordLegInfo`, a call as a `CallLogRecord` with its `legs`.

Schemas: `legato/schemas/ringcentral_call_log_leg.json` and `ringcentral_call_log_record.json`, written
from RingCentral's API reference (see their descriptions). Timestamps: RFC 3339 with milliseconds.

Leg fields (CallLogRecordLegInfo)

| RingCentral        | Legato source                                                            |
|--------------------|--------------------------------------------------------------------------|
| type               | "Voice" (Legato carries voice only)                                      |
| direction          | Inbound / Outbound                                                       |
| action             | network_type pstn -> "Phone Call", voip -> "VoIP Call"                   |
| startTime          | start_time (dialing or arrival), else date_created                       |
| duration           | Leg.duration() (s)                                                       |
| durationMs         | Leg.duration_ms()                                                        |
| legType            | inbound pstn PstnToSip, outbound pstn SipToPstnMetered,                  |
|                    | outbound voip SipForwarding, inbound voip Unknown                        |
| telephonySessionId | call_sid                                                                 |
| partyId            | leg_sid                                                                  |
| transport          | pstn -> PSTN, voip -> VoIP                                               |
| from / to          | `{"phoneNumber": E.164}`; a SIP party without a number: `{"name": URI}`  |
| result, reason,    | table below; reasonDescription is RingCentral's text for the reason      |
| reasonDescription  |                                                                          |
| recording          | only when extra["recording_url"] exists: id = leg_sid,                   |
|                    | uri = contentUri = recording_url, type "Automatic"                       |
| billing            | Detailed view, once priced: costPurchased = the leg's price,             |
|                    | costIncluded = 0 (RingCentral has no currency field: price_unit is lost) |
| master             | Detailed view: true for the call's first leg                             |
| extension, sipUuidInfo, transferTarget, transferee, message, delegate, delegationType,         |
| shortRecording, internalType: no Legato source, omitted                                       |

result / reason

| Legato                                          | result        | reason             |
|-------------------------------------------------|---------------|--------------------|
| live (created ... connected)                    | In Progress   | -                  |
| completed                                       | Accepted      | Accepted           |
| busy                                            | Busy          | Line Busy          |
| no-answer, outbound                             | No Answer     | Not Answered       |
| no-answer, inbound                              | Missed        | No Answer          |
| canceled, outbound (hung up before answer)      | Hang Up       | Hang Up            |
| canceled, inbound, caller hung up               | Missed        | Hang Up            |
| canceled, inbound, rejected by the application  | Rejected      | Calls Not Accepted |
| failed, Q.850 1 / 22 / 28                       | Wrong Number  | Wrong Number       |
| failed, Q.850 3                                 | Call Failed   | Bad Number         |
| failed, Q.850 21                                | Rejected      | -                  |
| failed, Q.850 34 / 38 / 41 / 42 / 47            | Call Failed   | Resource Error     |
| failed, failed_to_create or platform_restart    | Internal Error| Internal Error     |
| failed, anything else                           | Call Failed   | Failed Try Again   |

Record fields (CallLogRecord): id = sessionId = telephonySessionId = call_sid; uri = the URL the caller
passes (the API's own URL for the record); the call-level type/direction/action/startTime/duration/
durationMs/result/reason/from/to/transport/recording are the master leg's; Detailed adds
lastModifiedTime (latest leg change), billing (sum of leg prices when they share one currency) and legs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from legato.dialects.conditions import ALL_CONDITIONS, Condition, condition
from legato.dialects.dialect import Dialect
from legato.dialects.parties import Party, parties
from legato.dialects.timestamps import rfc3339
from legato.domain import causes
from legato.domain.call import Call
from legato.domain.leg import Direction, Leg, LegState, TerminalStatus
from legato.domain.prices import Price, stored_price

SIMPLE, DETAILED = "Simple", "Detailed"
VIEWS = (SIMPLE, DETAILED)
TRANSPORT = {"pstn": "PSTN", "voip": "VoIP"}
ACTION = {"pstn": "Phone Call", "voip": "VoIP Call"}
LEG_TYPE: dict[tuple[Direction, str], str] = {
    (Direction.INBOUND, "pstn"): "PstnToSip",
    (Direction.OUTBOUND, "pstn"): "SipToPstnMetered",
    (Direction.OUTBOUND, "voip"): "SipForwarding",
    (Direction.INBOUND, "voip"): "Unknown",
}
REASON_DESCRIPTIONS: dict[str, str] = {
    "Accepted": "The call was connected to and accepted by this number",
    "Line Busy": "The phone number you dialed was busy",
    "Not Answered": "The phone number you dialed was not answered",
    "No Answer": "You did not answer the call",
    "Hang Up": "The caller hung up before the call was answered",
    "Internal Error": "An internal error occurred when making the call. Please try again",
    "Wrong Number": "The number you dialed has either been disconnected or is not a valid phone number. "
                    "Please check the number and try again",
    "Bad Number": "An error occurred when making the call. Please check the number before trying again",
    "Failed Try Again": "Call failed. Please try again",
    "Calls Not Accepted": "Your account was not accepting calls at this time",
    "Resource Error": "An error occurred when making the call. Please try again",
}
_FAILED_BY_Q850: dict[int, tuple[str, str | None]] = {
    1: ("Wrong Number", "Wrong Number"),
    22: ("Wrong Number", "Wrong Number"),
    28: ("Wrong Number", "Wrong Number"),
    3: ("Call Failed", "Bad Number"),
    causes.CALL_REJECTED: ("Rejected", None),
    34: ("Call Failed", "Resource Error"),
    38: ("Call Failed", "Resource Error"),
    41: ("Call Failed", "Resource Error"),
    42: ("Call Failed", "Resource Error"),
    47: ("Call Failed", "Resource Error"),
}
_INTERNAL_CAUSES = frozenset({"failed_to_create", "platform_restart"})

T = TerminalStatus
_LIVE = frozenset(c for c in ALL_CONDITIONS if c[0] is not LegState.TERMINAL)
RESULT_CONDITIONS: dict[str, frozenset[Condition]] = {
    "In Progress": _LIVE,
    "Accepted": frozenset({(LegState.TERMINAL, T.COMPLETED)}),
    "Busy": frozenset({(LegState.TERMINAL, T.BUSY)}),
    "No Answer": frozenset({(LegState.TERMINAL, T.NO_ANSWER)}),
    "Missed": frozenset({(LegState.TERMINAL, T.NO_ANSWER), (LegState.TERMINAL, T.CANCELED)}),
    "Hang Up": frozenset({(LegState.TERMINAL, T.CANCELED)}),
    "Rejected": frozenset({(LegState.TERMINAL, T.CANCELED), (LegState.TERMINAL, T.FAILED)}),
    "Wrong Number": frozenset({(LegState.TERMINAL, T.FAILED)}),
    "Call Failed": frozenset({(LegState.TERMINAL, T.FAILED)}),
    "Internal Error": frozenset({(LegState.TERMINAL, T.FAILED)}),
}
"""The inverse of `outcome`: which Legato conditions each result can stand for (used by filters and tests)."""


def outcome(leg: Leg) -> tuple[str, str | None]:
    """(result, reason) of a leg; reason is None where RingCentral's list has none that fits."""
    state, status = condition(leg)
    inbound = leg.direction is Direction.INBOUND
    if state is not LegState.TERMINAL:
        return "In Progress", None
    if status is T.COMPLETED:
        return "Accepted", "Accepted"
    if status is T.BUSY:
        return "Busy", "Line Busy"
    if status is T.NO_ANSWER:
        return ("Missed", "No Answer") if inbound else ("No Answer", "Not Answered")
    if status is T.CANCELED:
        if not inbound:
            return "Hang Up", "Hang Up"
        if (leg.hangup_cause or "").startswith("rejected"):
            return "Rejected", "Calls Not Accepted"
        return "Missed", "Hang Up"
    if leg.hangup_cause in _INTERNAL_CAUSES:
        return "Internal Error", "Internal Error"
    return _FAILED_BY_Q850.get(leg.hangup_cause_code or 0, ("Call Failed", "Failed Try Again"))


def result(leg: Leg) -> str:
    """The RingCentral call result of a leg (the `result=` filter of the call log compares this)."""
    return outcome(leg)[0]


def _party(p: Party) -> dict[str, str]:
    return {"phoneNumber": p.e164} if p.e164 else {"name": p.canonical}


def _billing(price: Price) -> dict[str, Decimal]:
    return {"costIncluded": Decimal(0), "costPurchased": price.amount}


def _recording(leg: Leg) -> dict[str, str] | None:
    url = leg.extra.get("recording_url")
    if not url:
        return None
    return {"id": leg.leg_sid, "uri": url, "type": "Automatic",
            "contentUri": url}


def _common(leg: Leg) -> dict[str, Any]:
    """The fields a leg and a record share (RingCentral's BaseCallLogRecord)."""
    caller, called = parties(leg)
    res, reason = outcome(leg)
    body: dict[str, Any] = {
        "type": "Voice",
        "direction": leg.direction.value.capitalize(),
        "action": ACTION.get(leg.network_type, "Phone Call"),
        "startTime": rfc3339(leg.start_time or leg.date_created),
        "duration": leg.duration(),
        "durationMs": leg.duration_ms(),
        "telephonySessionId": leg.call_sid,
        "transport": TRANSPORT.get(leg.network_type, "PSTN"),
        "from": _party(caller),
        "to": _party(called),
        "result": res,
    }
    if reason is not None:
        body["reason"] = reason
        body["reasonDescription"] = REASON_DESCRIPTIONS[reason]
    recording = _recording(leg)
    if recording is not None:
        body["recording"] = recording
    return body


def render_leg(leg: Leg, view: str = DETAILED, *, master: bool | None = None) -> dict[str, Any]:
    """The `CallLogRecordLegInfo` of one leg; `master` is shown in the Detailed view when known."""
    body = _common(leg)
    body["legType"] = LEG_TYPE.get((leg.direction, leg.network_type), "Unknown")
    body["partyId"] = leg.leg_sid
    if view == DETAILED:
        price = stored_price(leg)
        if price is not None:
            body["billing"] = _billing(price)
        if master is not None:
            body["master"] = master
    return body


def render_call(call: Call, uri: str, view: str = DETAILED) -> dict[str, Any]:
    """The `CallLogRecord` of a call; `uri` is the record's canonical URL."""
    body: dict[str, Any] = {"uri": uri, "id": call.call_sid, "sessionId": call.call_sid,
                            **_common(call.master)}
    if view == DETAILED:
        body["lastModifiedTime"] = rfc3339(call.date_updated)
        total = _total(call)
        if total is not None:
            body["billing"] = _billing(total)
        body["legs"] = [render_leg(leg, DETAILED, master=index == 0) for index, leg in enumerate(call.legs)]
    return body


def _total(call: Call) -> Price | None:
    prices = [p for p in (stored_price(leg) for leg in call.legs) if p is not None]
    if not prices or len({p.currency for p in prices}) != 1:
        return None
    return Price(sum((p.amount for p in prices), Decimal(0)), prices[0].currency)


def render_call_log(records: list[dict[str, Any]], uri: str, page: int, per_page: int,
                    total: int) -> dict[str, Any]:
    """A call-log page as RingCentral's CallLogResponse: `uri`, `records`, `paging` and `navigation` (all four
    required there): first and last page always, previous and next where they exist, each the `uri` with its
    `page` set."""
    pages = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    paging: dict[str, int] = {"page": page, "perPage": per_page, "totalPages": pages, "totalElements": total}
    if records:
        paging |= {"pageStart": start, "pageEnd": start + len(records) - 1}
    targets = {"firstPage": 1, "previousPage": page - 1 if page > 1 else None,
               "nextPage": page + 1 if page < pages else None, "lastPage": pages}
    navigation = {name: {"uri": _page_uri(uri, n)} for name, n in targets.items() if n is not None}
    return {"uri": uri, "records": records, "paging": paging, "navigation": navigation}


def _page_uri(uri: str, page: int) -> str:
    """`uri` with its `page` query parameter set to `page` (other parameters kept in order)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(page))])))


DIALECT = Dialect("ringcentral", lambda leg: render_leg(leg, DETAILED),
                  lambda call, uri: render_call(call, uri, DETAILED))
