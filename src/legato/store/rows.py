"""Converting between domain objects and table rows."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from legato.domain.account import Account
from legato.domain.bridge import Bridge, BridgeState
from legato.domain.conference import Conference, ConferenceState, Participant
from legato.domain.events import LegEvent
from legato.domain.leg import AnsweredBy, Direction, HangupSource, Leg, LegState, TerminalStatus
from legato.domain.numbers import DEFAULT_REGION

_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(Leg))
_ENUMS = {"direction": Direction, "state": LegState, "terminal_status": TerminalStatus,
          "answered_by": AnsweredBy, "hangup_source": HangupSource}


def leg_to_row(leg: Leg) -> dict[str, Any]:
    """A snapshot of the leg as a row (enums as their string values, extra copied)."""
    row = {name: getattr(leg, name) for name in _LEG_FIELDS}
    for name in _ENUMS:
        value = row[name]
        row[name] = value.value if value is not None else None
    row["extra"] = dict(leg.extra)
    return row


def leg_from_row(row: Any) -> Leg:
    """A Leg from a row mapping."""
    values = {name: row[name] for name in _LEG_FIELDS}
    for name, enum in _ENUMS.items():
        if values[name] is not None:
            values[name] = enum(values[name])
    values["extra"] = dict(values["extra"] or {})
    return Leg(**values)


def event_to_row(event: LegEvent, endpoint: str | None, subject: str = "leg") -> dict[str, Any]:
    """An outbox row for an event of `subject` (tables.SUBJECTS; a bridge's or conference's event carries its sid
    in `event.leg_sid`); `endpoint` None (or an event not to deliver) means nothing is sent."""
    endpoint = (event.endpoint or endpoint) if event.deliver else None
    return {
        "event_sid": event.event_sid, "subject": subject, "subject_sid": event.leg_sid,
        "account_sid": event.account_sid,
        "sequence": event.sequence, "event_name": event.event_name, "event_type": event.event_type,
        "timestamp": event.timestamp, "payload": event.payload(), "endpoint": endpoint,
        "status": "pending" if endpoint else "undeliverable", "attempts": 0,
        "next_attempt_at": event.timestamp if endpoint else None, "delivered_at": None,
    }


def bridge_to_row(bridge: Bridge) -> dict[str, Any]:
    """A snapshot of the bridge as a row."""
    return {"bridge_sid": bridge.bridge_sid, "account_sid": bridge.account_sid, "call_sid": bridge.call_sid,
            "dc_code": bridge.dc_code, "leg_sids": list(bridge.leg_sids),
            "bridge_event_endpoint": bridge.bridge_event_endpoint, "end_on_exit": bridge.end_on_exit,
            "state": bridge.state.value, "end_reason": bridge.end_reason,
            "ended_by_leg_sid": bridge.ended_by_leg_sid, "date_created": bridge.date_created,
            "date_updated": bridge.date_updated, "end_time": bridge.end_time,
            "event_sequence": bridge.event_sequence}


def bridge_from_row(row: Any) -> Bridge:
    """A Bridge from a row mapping."""
    return Bridge(bridge_sid=row["bridge_sid"], account_sid=row["account_sid"], call_sid=row["call_sid"],
                  dc_code=row["dc_code"], leg_sids=list(row["leg_sids"]),
                  bridge_event_endpoint=row["bridge_event_endpoint"], end_on_exit=row["end_on_exit"],
                  date_created=row["date_created"], state=BridgeState(row["state"]), end_reason=row["end_reason"],
                  ended_by_leg_sid=row["ended_by_leg_sid"], date_updated=row["date_updated"],
                  end_time=row["end_time"], event_sequence=row["event_sequence"])


_CONFERENCE_FIELDS = ("conference_sid", "account_sid", "name", "conference_event_endpoint", "event_format", "record",
                      "max_participants", "end_when_empty", "dc_code", "end_reason", "recording_url",
                      "date_created", "date_updated", "end_time", "event_sequence", "status_callback")
_PARTICIPANT_TIMES = ("date_joined", "date_left")


def conference_to_row(conference: Conference) -> dict[str, Any]:
    """A snapshot of the conference as a row (participants as JSON, times in ISO 8601)."""
    row = {name: getattr(conference, name) for name in _CONFERENCE_FIELDS}
    row["state"] = conference.state.value
    row["participants"] = [{k: (v.isoformat() if k in _PARTICIPANT_TIMES and v is not None else v)
                            for k, v in p.to_dict().items()} for p in conference.participants]
    return row


def conference_from_row(row: Any) -> Conference:
    """A Conference from a row mapping."""
    participants = [Participant.from_dict({k: (datetime.fromisoformat(v) if k in _PARTICIPANT_TIMES and v else v)
                                           for k, v in p.items()}) for p in row["participants"]]
    return Conference(**{name: row[name] for name in _CONFERENCE_FIELDS}, participants=participants,
                      state=ConferenceState(row["state"]))


_SETTINGS = ("amd_params", "inbound_flow_url", "exophone_flows")  # Account fields kept in the `settings` JSON


def account_from_row(row: Any) -> Account:
    """An Account from a row mapping (credentials stay in the row)."""
    settings = row["settings"] or {}
    return Account(account_sid=row["account_sid"], name=row["name"], api_key=row["api_key"],
                   created_at=row["created_at"], cps=row["cps"], max_concurrent=row["max_concurrent"],
                   inbound_endpoint=row["inbound_endpoint"], exophones=tuple(row["exophones"] or ()),
                   amd_params=dict(settings.get("amd_params") or {}),
                   default_region=row.get("default_region") or DEFAULT_REGION,
                   caller_ids=tuple(row.get("caller_ids") or ()), disabled=row.get("disabled_at") is not None,
                   inbound_flow_url=settings.get("inbound_flow_url"),
                   exophone_flows=dict(settings.get("exophone_flows") or {}))


def _account_columns(account: Account) -> dict[str, Any]:
    """The columns an Account sets (not its credentials, times or `disabled_at`)."""
    settings = {name: getattr(account, name) for name in _SETTINGS if getattr(account, name)}
    return {"name": account.name, "cps": account.cps, "max_concurrent": account.max_concurrent,
            "inbound_endpoint": account.inbound_endpoint, "exophones": list(account.exophones),
            "caller_ids": list(account.caller_ids), "default_region": account.default_region, "settings": settings}


def new_account_row(account: Account, token_hash: str, webhook_secret_enc: str) -> dict[str, Any]:
    """The row of a new account with its credentials (hashed token, sealed secret)."""
    return {**_account_columns(account), "account_sid": account.account_sid, "api_key": account.api_key,
            "token_hash": token_hash, "webhook_secret_enc": webhook_secret_enc,
            "created_at": account.created_at, "updated_at": account.created_at}


def account_changes(old: Account, new: Account) -> dict[str, Any]:
    """The columns to write to turn `old`'s row into `new`'s."""
    before, after = _account_columns(old), _account_columns(new)
    return {name: value for name, value in after.items() if value != before[name]}
