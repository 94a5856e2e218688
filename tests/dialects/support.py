"""Shared test support for dialects: schema validation and Legs in every condition (hypothesis)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from jsonschema import FormatChecker
from jsonschema.validators import validator_for
from referencing import Registry, Resource

from legato.dialects.conditions import ALL_CONDITIONS, Condition
from legato.domain.leg import AnsweredBy, Direction, HangupSource, Leg, LegState, TerminalStatus

SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "legato" / "schemas"
T0 = datetime(2024, 5, 31, 8, 2, 32, 608752, tzinfo=UTC)


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A stored schema, its `$id` set to the file name when it has none or an invalid one.

    The MessageBird seed's `$id` is `#/components/schemas/Leg` (a fragment, not allowed by 2020-12); the
    file stays verbatim and only this in-memory copy is fixed so the meta-schema check passes.
    """
    schema = json.loads((SCHEMAS / name).read_text())
    if "#" in schema.get("$id", "#"):
        schema["$id"] = name
    return schema


@cache
def _registry() -> Registry:
    names = [path.name for path in SCHEMAS.glob("*.json")]
    return Registry().with_resources((name, Resource.from_contents(load_schema(name))) for name in names)


def validate(schema_name: str, instance: Any) -> None:
    """Validate against a stored schema (meta-checked) with format checking; raise on the first error."""
    schema = load_schema(schema_name)
    cls = validator_for(schema)
    cls.check_schema(schema)
    cls(schema, registry=_registry(), format_checker=FormatChecker()).validate(instance)


def make_leg(condition: Condition = (LegState.CONNECTED, None), *, direction: Direction = Direction.OUTBOUND,
             contact: str = "09163816621", contact_e164: str | None = "+919163816621",
             exophone: str = "08030752400", network_type: str = "pstn", answered: bool | None = None,
             answered_by: AnsweredBy | None = None, amd_enable: bool = False, talk_ms: int = 61_500,
             hangup_cause: str | None = None, hangup_cause_code: int | None = None,
             **kwargs: Any) -> Leg:
    """A Leg in the given (state, terminal_status), with consistent timestamps."""
    state, status = condition
    leg = Leg(leg_sid="2QYATxQ9t4UKcUwcqJClSa9OEZ400000", account_sid="exotel60",
              call_sid="2QYATxQ9t4UKcUwcqJClSa9OEZ400001", direction=direction, contact_uri=contact,
              contact_e164=contact_e164, exophone=exophone, network_type=network_type,
              leg_event_endpoint="https://app.example.com/events", date_created=T0, amd_enable=amd_enable,
              **kwargs)
    leg.state = state
    if state is not LegState.CREATED:
        leg.start_time = T0 + timedelta(milliseconds=120)
    if answered is None:
        answered = state is LegState.CONNECTED or status is TerminalStatus.COMPLETED
    if answered:
        leg.answer_time = T0 + timedelta(seconds=5)
        leg.answered_by = answered_by
    if state is LegState.TERMINAL:
        leg.terminal_status = status
        leg.end_time = (leg.answer_time or T0 + timedelta(seconds=20)) + timedelta(milliseconds=talk_ms)
        leg.hangup_cause_code = hangup_cause_code if hangup_cause_code is not None else 16
        leg.hangup_cause = hangup_cause or "normal_clearing"
        leg.hangup_source = HangupSource.CALLEE
    leg.date_updated = leg.end_time or leg.answer_time or leg.start_time or T0
    return leg


NUMBERS = [("09163816621", "+919163816621"), ("+14155550123", "+14155550123"),
           ("919876543210", "+919876543210")]
SIP_CONTACTS = [("sip:alice@pbx.example.com", None), ("sip:+919163816621@10.0.0.5:5060", None),
                ("sip:1001@[2001:db8::1];transport=tcp", None)]
CAUSES = [(16, "normal_clearing"), (17, "user_busy"), (1, "unallocated_number"), (21, "call_rejected"),
          (41, "failed_to_create"), (41, "platform_restart"), (102, "setup_timeout"), (3, "no_route"),
          (38, "network_out_of_order"), (16, "caller_canceled"), (21, "rejected_rejected"),
          (127, "interworking")]


@st.composite
def legs(draw: st.DrawFn, conditions: tuple[Condition, ...] = ALL_CONDITIONS) -> Leg:
    """Legs in every condition, direction, network type, AMD verdict, cause, with or without price."""
    condition = draw(st.sampled_from(conditions))
    network_type = draw(st.sampled_from(["pstn", "voip"]))
    contact, e164 = draw(st.sampled_from(SIP_CONTACTS if network_type == "voip" else NUMBERS))
    exophone = draw(st.sampled_from(["08030752400", "+918030752400", "sip:exo@legato.example.com"]))
    code, cause = draw(st.sampled_from(CAUSES))
    amd = draw(st.booleans())
    terminal = condition[0] is LegState.TERMINAL
    # only a failed leg may have been answered before it ended (restart reconcile); others follow the machine
    answered = draw(st.booleans()) if condition[1] is TerminalStatus.FAILED else None
    leg = make_leg(condition, direction=draw(st.sampled_from(list(Direction))), contact=contact,
                   contact_e164=e164, exophone=exophone, network_type=network_type, answered=answered,
                   answered_by=draw(st.sampled_from([None, *AnsweredBy])) if amd else None, amd_enable=amd,
                   talk_ms=draw(st.integers(0, 4 * 3600 * 1000)), hangup_cause=cause, hangup_cause_code=code,
                   custom_param=draw(st.sampled_from([None, "MD_LEGS", ""])),
                   sip_response_code=draw(st.sampled_from([None, 486, 404, 603])))
    endpoints = ["https://app.example.com/events", "grpc://127.0.0.1:9001", None]
    leg.leg_event_endpoint = draw(st.sampled_from(endpoints))
    if terminal and draw(st.booleans()):
        leg.extra["price"] = str(draw(st.decimals(min_value=0, max_value=1000, places=5)))
        leg.extra["price_unit"] = draw(st.sampled_from(["INR", "USD"]))
    if terminal and draw(st.booleans()):
        leg.extra["recording_url"] = "https://recordings.example.com/r/2QYATxQ9t4UKcUwcqJClSa9OEZ400000.wav"
    return leg
