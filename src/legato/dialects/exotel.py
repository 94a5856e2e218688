"""Legato's own shape, after the Exotel v2 Legs API: the leg resource and the event data."""

from __future__ import annotations

from typing import Any

from legato.dialects.dialect import Dialect
from legato.domain.call import Call
from legato.domain.events import iso
from legato.domain.leg import Leg


def _value(enum_or_none: Any) -> Any:
    return None if enum_or_none is None else getattr(enum_or_none, "value", enum_or_none)


def event_data(leg: Leg) -> dict[str, Any]:
    """`event_data.data` of an event: the leg as it is at the moment of the event."""
    return {
        "account_sid": leg.account_sid,
        "leg_sid": leg.leg_sid,
        "call_sid": leg.call_sid,
        "state": leg.state.value,
        "terminal_status": _value(leg.terminal_status),
        "hangup_cause_code": leg.hangup_cause_code,
        "hangup_cause": leg.hangup_cause,
        "hangup_source": _value(leg.hangup_source),
        "answered_by": _value(leg.answered_by),
        "direction": leg.direction.value,
        "contact_uri": leg.contact_uri,
        "exophone": leg.exophone,
        "caller_id": leg.caller_id,
        "custom_param": leg.custom_param,
        "dc_code": leg.dc_code,
        "nso_code": leg.nso_code,
        "network_type": leg.network_type,
        "date_created": iso(leg.date_created),
        "date_updated": iso(leg.date_updated),
        "start_time": iso(leg.start_time),
        "answer_time": iso(leg.answer_time),
        "end_time": iso(leg.end_time),
        "time_limit": leg.time_limit,
        "duration": leg.duration() if leg.is_terminal else None,
        "sip_response_code": leg.sip_response_code,
    }


def leg_resource(leg: Leg) -> dict[str, Any]:
    """The leg as `GET /legs/{leg_sid}` returns it."""
    return {
        "leg_sid": leg.leg_sid,
        "account_sid": leg.account_sid,
        "call_sid": leg.call_sid,
        "created_at": iso(leg.date_created),  # the seed writes Go's time.String(); every API time is RFC 3339
        "direction": leg.direction.value,
        "contact_uri": leg.contact_uri,
        "contact_uri_e164": leg.contact_e164,
        "exophone": leg.exophone,
        "caller_id": leg.caller_id,
        "network_type": leg.network_type,
        "custom_param": leg.custom_param,
        "leg_event_endpoint": leg.leg_event_endpoint,
        "state": leg.state.value,
        "terminal_status": _value(leg.terminal_status),
        "hangup_cause_code": leg.hangup_cause_code,
        "hangup_cause": leg.hangup_cause,
        "hangup_source": _value(leg.hangup_source),
        "answered_by": _value(leg.answered_by),
        "amd_enable": leg.amd_enable,
        "async_amd": leg.async_amd,
        "priority": leg.priority,
        "event_format": leg.extra.get("event_format", "exotel"),
        "dc_code": leg.dc_code,
        "nso_code": leg.nso_code,
        "reference_leg_sid": leg.reference_leg_sid,
        "node": leg.node,
        "amd_params": leg.extra.get("amd_params"),
        "time_limit": leg.time_limit,
        "timeout": leg.timeout,
        "setup_timeout": leg.setup_timeout,
        "ring_timeout": leg.ring_timeout,
        "sip_response_code": leg.sip_response_code,
        "sip_reason": leg.sip_reason,
        "date_created": iso(leg.date_created),
        "date_updated": iso(leg.date_updated),
        "start_time": iso(leg.start_time),
        "answer_time": iso(leg.answer_time),
        "end_time": iso(leg.end_time),
        "duration": leg.duration(),
        "duration_ms": leg.duration_ms(),
        "amd": leg.extra.get("amd"),
        "rtcp": leg.extra.get("rtcp"),
        "recording_url": leg.extra.get("recording_url"),
    }


def _render_call(call: Call, uri: str) -> dict[str, Any]:
    return {"call_sid": call.call_sid, "account_sid": call.account_sid,
            "legs": [leg_resource(leg) for leg in call.legs]}


DIALECT = Dialect("exotel", leg_resource, _render_call, lambda event, snapshot: event.payload())
