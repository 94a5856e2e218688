"""The requests of the leg use-cases: create, act, a simulated incoming call; their checks and list cursors."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from legato.app.streams import (
    SandboxFarEnd,
    StreamProtocol,
    StreamRequest,
)
from legato.dialects import formats
from legato.domain.account import Account
from legato.domain.actions import ACTIONS
from legato.domain.errors import ValidationFailed
from legato.domain.numbers import Address, parse_address
from legato.domain.text import is_storable
from legato.network.base import MediaCommand
from legato.speech import SpeechInputError, check_language, normalise_hints

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


ActionName = Literal[tuple(ACTIONS)]  # type: ignore[valid-type]


class LegAction(BaseModel):
    """Body of `POST .../legs/{leg_sid}/actions`: call control (hangup, answer) or media on a connected leg."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: ActionName
    reason: Literal["busy", "rejected"] | None = Field(
        None, description="hangup of a ringing inbound leg: busy (486) or rejected (603)")
    url: str | None = Field(None, min_length=1, max_length=2048,
                            description="play: a WAV file under a folder the operator allowed, or an http(s) "
                                        "URL under an allowed prefix; redirect: the call flow to run now; "
                                        "start_stream: the wss:// URL")
    loop: int | None = Field(None, ge=0, le=100, description="play, say: times to play; 0 = until stop_play")
    text: str | None = Field(None, min_length=1, max_length=2000, description="say: the text to speak")
    voice: str | None = Field(None, pattern=r"^[A-Za-z0-9_+-]{1,40}$", description="say: espeak-ng voice")
    rate: int | None = Field(None, ge=80, le=450, description="say: words per minute")
    direction: Literal["in", "out", "both"] | None = Field(
        None, description="start_recording: in (the far end), out (what it hears), both (mixed)")
    num_digits: int | None = Field(None, ge=1, le=64, description="gather: stop after this many digits")
    timeout: float | None = Field(None, gt=0, le=600,
                                  description="gather: seconds to wait for the first and each next digit")
    finish_on_key: str | None = Field(None, pattern=r"^[0-9*#A-Da-d]?$",
                                      description="gather: key that ends it ('' for none; default #)")
    digits: str | None = Field(None, pattern=r"^[0-9*#A-Da-d]{1,64}$", description="send_digits: RFC 4733")
    to: str | None = Field(None, min_length=1, max_length=256,
                           description="transfer: the number or sip: URI to transfer the leg to")
    mode: Literal["blind", "attended"] | None = Field(
        None, description="transfer: blind (SIP REFER to the far end; default) or attended (Legato dials `to` "
                          "and bridges it with the leg when it answers)")
    transfer_event_endpoint: str | None = Field(
        None, min_length=1, max_length=2048,
        description="transfer: where the transfer events go (default: the leg's endpoint)")
    method: Literal["POST", "GET"] | None = Field(None, description="redirect: how the flow URL is fetched")
    protocol: StreamProtocol | None = Field(None, description="start_stream: twilio or exotel")
    track: Literal["inbound", "outbound", "both"] | None = Field(None, description="start_stream: which audio")
    bidirectional: bool | None = Field(None, description="start_stream: the application's media plays to the leg")
    custom_parameters: dict[str, str] | None = Field(None, max_length=32,
                                                     description="start_stream: sent in the start message")
    sample_rate: int | None = Field(None, description="start_stream: exotel 8000, 16000 or 24000; twilio 8000")
    stream_sid: str | None = Field(None, pattern=r"^[A-Za-z0-9]{1,64}$", description="stop_stream: which stream")
    stream: StreamRequest | None = Field(None, description="answer: stream the leg's audio from answer")
    transcribe: bool | None = Field(None, description="start_recording: transcribe the recording when it completes "
                                                      "(transcription_completed event)")
    beep: bool | None = Field(None, description="start_recording: play a short 1 kHz tone to the leg first; the "
                                                "recording starts after it (default false)")
    silence_timeout: float | None = Field(
        None, gt=0, le=600, description="gather: also end it (reason silence) after this many seconds without "
                                        "voice or a key (a recording's silence rule)")
    input: Literal["dtmf", "speech", "dtmf speech"] | None = Field(
        None, description="gather: what the caller may answer with (default dtmf)")
    speech_timeout: float | Literal["auto"] | None = Field(
        None, description="gather with speech: seconds of silence that end the answer (0 < s <= 60), or auto")
    hints: list[str] | str | None = Field(
        None, description="gather with speech: words or phrases the caller is likely to say (a list or a "
                          "comma-separated string; at most 500, each up to 100 characters)")
    language: str | None = Field(None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                 description="gather with speech: the caller's language (BCP 47, default en-US)")

    @field_validator("speech_timeout", mode="before")
    @classmethod
    def _seconds_or_auto(cls, value: Any) -> Any:
        if value is None or value == "auto" or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        raise ValueError("must be a number of seconds or auto")

    @field_validator("hints", mode="before")
    @classmethod
    def _phrases(cls, value: Any) -> Any:
        if value is None or isinstance(value, str) or (isinstance(value, list)
                                                       and all(isinstance(v, str) for v in value)):
            return value
        raise ValueError("must be a list of strings or a comma-separated string")

    def media_command(self, folder: str, path: str | None, far_end_speech: str | None = None) -> MediaCommand:
        """This action as a network media command (`folder` for recordings, `path` for play, `far_end_speech`
        for the sandbox)."""
        return MediaCommand(
            kind=self.action, path=path, loop=1 if self.loop is None else self.loop, text=self.text,
            voice=self.voice or "en-us", rate=self.rate or 160, direction=self.direction or "both", folder=folder,
            num_digits=self.num_digits, timeout=5.0 if self.timeout is None else self.timeout,
            finish_on_key="#" if self.finish_on_key is None else (self.finish_on_key or None), digits=self.digits,
            transcribe=bool(self.transcribe), beep=bool(self.beep), silence_timeout=self.silence_timeout,
            input=self.input or "dtmf",
            speech_timeout=None if self.speech_timeout in (None, "auto") else float(self.speech_timeout),
            hints=normalise_hints(self.hints), language=self.language or "en-US", far_end_speech=far_end_speech)


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


def check_action_fields(action: LegAction) -> None:
    """400 naming the field when a field does not belong to the action or a needed one is missing."""
    spec = ACTIONS[action.action]
    allowed = spec.fields
    for name in sorted(action.model_fields_set - {"action"}):
        if name not in allowed and getattr(action, name) is not None:
            if name == "reason":
                raise ValidationFailed("reason applies only to hanging up a ringing inbound leg", field="reason")
            raise ValidationFailed(f"{name} does not apply to action {action.action}", field=name)
    for name in spec.required:
        if getattr(action, name) is None:
            raise ValidationFailed(f"{action.action} needs {name}", field=name)
    if action.action == "gather":
        check_speech_fields(action)


def check_speech_fields(action: LegAction) -> None:
    """400 naming the field for speech settings that are out of range or given without speech input."""
    if "speech" not in (action.input or "dtmf"):
        for name in ("speech_timeout", "hints", "language"):
            if getattr(action, name) is not None:
                raise ValidationFailed(f"{name} needs input speech or 'dtmf speech'", field=name)
        return
    timeout = action.speech_timeout
    if isinstance(timeout, float | int) and not 0 < timeout <= 60:
        raise ValidationFailed("speech_timeout must be within (0, 60] seconds or auto", field="speech_timeout")
    try:
        normalise_hints(action.hints)
    except SpeechInputError as exc:
        raise ValidationFailed(f"hints: {exc}", field="hints") from None
    if action.language is not None and not check_language(action.language):
        raise ValidationFailed(f"language {action.language} is not supported by the speech recogniser "
                               "(English: en, en-US, en-GB ...)", field="language")


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
