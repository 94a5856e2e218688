"""The requests of the leg use-cases: create, act, a simulated incoming call; their checks and list cursors."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.app.actions import hangup
from legato.app.actions.base import request_model
from legato.app.actions.registry import ACTIONS
from legato.app.streams import SandboxFarEnd, StreamRequest
from legato.dialects import formats
from legato.domain.account import Account
from legato.domain.errors import ValidationFailed
from legato.domain.numbers import Address, parse_address
from legato.domain.text import is_storable

MAX_TIMER = 3600
MAX_TIME_LIMIT = 86_400


class CreateLeg(BaseModel):
    """Body of `POST /v2/accounts/{sid}/legs` (the Exotel v2 Legs API fields)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    contact_uri: str = Field(min_length=1, max_length=256, description="sip: URI or phone number")
    exophone: str = Field(min_length=1, max_length=256, description="caller id: number or sip: URI")
    leg_event_endpoint: str | None = Field(None, min_length=1, max_length=2048,
                                           description="grpc://host:port, http:// or https:// URL (optional when "
                                                       "flow_url is given)")
    network_type: Literal["pstn", "voip"] = "pstn"
    custom_param: str | None = Field(None, max_length=4096)
    time_limit: int = Field(14400, ge=1, le=MAX_TIME_LIMIT)
    timeout: int = Field(30, ge=1, le=MAX_TIMER)
    setup_timeout: int = Field(30, ge=1, le=MAX_TIMER)
    ring_timeout: int = Field(30, ge=1, le=MAX_TIMER)
    requested_dc_code: str | None = Field(None, max_length=32)
    requested_nso_code: str | None = Field(None, max_length=64)
    reference_leg_sid: str | None = Field(None, max_length=64)
    amd_enable: bool = False
    amd_params: dict[str, int | bool | str] | None = Field(
        None, description="AMD overrides for this leg (e.g. maximum_number_of_words, greeting_ms), "
                          "over the account's and the operator's")
    async_amd: bool = False
    priority: Literal["normal", "high"] = "normal"
    event_format: Literal[formats.EVENT_FORMATS] = Field(  # type: ignore[valid-type]
        "exotel", description="shape of the events delivered to leg_event_endpoint")
    flow_url: str | None = Field(None, min_length=1, max_length=2048,
                                 description="call flow: the TwiML document fetched when the leg is answered "
                                             "(docs/call-flows.md)")
    flow_method: Literal["POST", "GET"] = "POST"
    flow_fallback_url: str | None = Field(None, min_length=1, max_length=2048,
                                          description="fetched when flow_url fails or returns a bad document")
    status_callback: str | None = Field(None, min_length=1, max_length=2048,
                                        description="Twilio-style call status callbacks (form-encoded) go here")
    status_callback_event: list[Literal["initiated", "ringing", "answered", "completed"]] | None = Field(
        None, max_length=4, description="which status callbacks to send (default: completed)")
    status_callback_method: Literal["POST", "GET"] = "POST"
    sandbox_speech: str | None = Field(
        None, min_length=1, max_length=1000,
        description="sandbox network only: what the simulated far end says into a speech gather or a "
                    "transcribed recording (ignored by real networks)")
    stream: StreamRequest | None = Field(None, description="stream the leg's audio to a WebSocket from answer "
                                                           "(docs/voice-agents.md)")
    sandbox_far_end: SandboxFarEnd | None = Field(None, description="sandbox only: what the far end of a streamed "
                                                                    "leg says and keys")


FIELD_ORDER = ("reason", "url", "loop", "text", "voice", "rate", "direction", "num_digits", "timeout", "finish_on_key",
               "digits", "to", "mode", "transfer_event_endpoint", "method", "protocol", "track", "bidirectional",
               "custom_parameters", "sample_rate", "stream_sid", "stream", "transcribe", "beep", "silence_timeout",
               "input", "speech_timeout", "hints", "language")
"""The order of LegAction's fields as published (the OpenAPI document; with several bad fields a 400 names the
first); a new action's new fields need no place here: they come after these."""

LegAction = request_model(
    "LegAction", "Body of `POST .../legs/{leg_sid}/actions`: call control (hangup, answer) or media on a connected "
    "leg.", ACTIONS.values(), FIELD_ORDER)
"""Body of `POST .../legs/{leg_sid}/actions`: `action` and the fields of every action (app/actions/)."""


class SandboxIncoming(BaseModel):
    """Body of `POST .../sandbox/incoming`: make a simulated inbound call arrive."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    from_: str = Field(alias="from", min_length=1, max_length=256)
    to: str = Field(min_length=1, max_length=256)
    sandbox_far_end: SandboxFarEnd | None = Field(None, description="what the caller says and keys to a stream")
    sandbox_speech: str | None = Field(None, min_length=1, max_length=1000,
                                       description="what the simulated caller says into a speech gather")


def check_caller_id(account: Account, exophone: str) -> Address:
    """The exophone, parsed in the account's region, if the account may present it as caller id; else 400."""
    address = parse_address(exophone, "exophone", account.default_region)
    if not account.exophones and not account.caller_ids:
        raise ValidationFailed(f"account {account.account_sid} has no exophone, so it cannot place outbound legs; "
                               f"an operator adds one with `legato accounts update {account.account_sid} "
                               "--exophone NUMBER`", field="exophone")
    if not account.may_present(address.canonical):
        owned = ", ".join((*account.exophones, *account.caller_ids))
        raise ValidationFailed(f"exophone {exophone} ({address.canonical}) is not one of this account's exophones "
                               f"or allowed caller ids ({owned})", field="exophone")
    return address


def check_action_fields(action: Any) -> None:
    """400 naming the field when a field does not belong to the action or a needed one is missing."""
    spec = ACTIONS[action.action]
    allowed = spec.fields
    for name in sorted(action.model_fields_set - {"action"}):
        if name not in allowed and getattr(action, name) is not None:
            if name == "reason":
                raise ValidationFailed(hangup.REASON_RULE, field="reason")
            raise ValidationFailed(f"{name} does not apply to action {action.action}", field=name)
    for name in spec.required:
        if getattr(action, name) is None:
            raise ValidationFailed(f"{action.action} needs {name}", field=name)
    if spec.check is not None:
        spec.check(action)


def encode_cursor(leg_sid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": leg_sid}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        before = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
        if not isinstance(before, str) or not is_storable(before):
            raise TypeError
        return before
    except Exception:
        raise ValidationFailed("cursor is not a cursor this API returned", field="cursor") from None
