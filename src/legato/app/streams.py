"""Media streams to an application's WebSocket (`start_stream`, `stop_stream`, `stream` at answer).

Checks a stream request (the URL against the endpoint policy, the protocol's sample rates), and turns
it into what the network media command that starts it carries: a new stream_sid, the URL's host resolved once
and checked again (the media engine connects to that address, keeping the URL's Host and TLS name),
and the Standard Webhooks headers that sign the handshake with the account's webhook secret. The
signed payload is the handshake's request target (the URL's path and query, as sent in the GET line) as
a JSON string: an agent verifies it with
`standardwebhooks.Webhook(secret).verify(json.dumps(request.path), request.headers)`. A `twilio` stream's
handshake also carries `X-Twilio-Signature`, as Twilio's does: over the stream URL as given, with no parameters
(`twilio.request_validator.RequestValidator(secret).validate(url, {}, signature)`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.domain.errors import ValidationFailed
from legato.domain.ids import new_id
from legato.events.endpoints import EndpointPolicy, EndpointRefused, IPAddress, Unresolvable, parse_url
from legato.events.signature import twilio_signature, webhook_headers
from legato.media.stream.registry import PROTOCOLS, SAMPLE_RATES

log = logging.getLogger(__name__)
STREAM_SCHEMES = ("ws", "wss")
STREAM_KEY = "stream"  # leg.extra: the stream to start at answer (a StreamRequest as a dict)
STREAM_FIELDS = frozenset({"url", "protocol", "track", "bidirectional", "custom_parameters", "sample_rate"})

StreamProtocol = Literal[tuple(PROTOCOLS)]  # type: ignore[valid-type]
SecretLookup = Callable[[str], Awaitable[str]]


class StreamRequest(BaseModel):
    """A stream of the leg's audio to a WebSocket: `"stream"` on create / answer, or start_stream's fields."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(
        min_length=1,
        max_length=2048,
        description="wss:// (or ws:// where the endpoint policy allows the host) URL of the application",
    )
    protocol: StreamProtocol = Field("twilio", description="twilio (Media Streams) or exotel (AgentStream/Voicebot)")
    track: Literal["inbound", "outbound", "both"] = Field(
        "inbound", description="inbound: what the far end says; outbound: what it hears; both"
    )
    bidirectional: bool = Field(False, description="the application's media plays to the leg (one per leg)")
    custom_parameters: dict[str, str] | None = Field(
        None, max_length=32, description="sent in the start message (customParameters / custom_parameters)"
    )
    sample_rate: int = Field(8000, description="exotel: 8000, 16000 or 24000; twilio: 8000")


class SandboxFarEnd(BaseModel):
    """Sandbox only: what the simulated far end of a streamed leg says and keys (network/sandbox_streams.py)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    say: str | None = Field(None, min_length=1, max_length=2000, description="espeak-ng text it speaks")
    voice: str | None = Field(None, pattern=r"^[A-Za-z0-9_+-]{1,40}$", description="espeak-ng voice for say")
    play: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="a WAV it speaks instead (as play's url: an allowed folder or prefix)",
    )
    keys: str | None = Field(None, pattern=r"^[0-9*#A-Da-d]{1,32}$", description="keys it presses (dtmf)")
    keys_after: float | None = Field(None, ge=0, le=600, description="seconds after the stream starts (1)")


SANDBOX_KEY = "sandbox_far_end"  # leg.extra: the SandboxFarEnd as a dict (play resolved to a local path)


def stream_sid() -> str:
    """A new stream sid (the handshake's webhook-id)."""
    return "MZ" + new_id()


class Streams:
    """Checks stream requests and builds the commands that start and stop them."""

    def __init__(self, endpoints: EndpointPolicy, secret: SecretLookup | None = None) -> None:
        self.endpoints = endpoints
        self.secret = secret

    async def check(self, request: StreamRequest, prefix: str = "") -> None:
        """400 naming the field (after `prefix`, e.g. "stream.") unless the stream can be started: the URL
        allowed now, a sample rate of the protocol."""
        if request.sample_rate not in SAMPLE_RATES[request.protocol]:
            rates = ", ".join(str(r) for r in SAMPLE_RATES[request.protocol])
            raise ValidationFailed(
                f"sample_rate must be {rates} for protocol {request.protocol}", field=prefix + "sample_rate"
            )
        for key, value in (request.custom_parameters or {}).items():
            if not 0 < len(key) <= 256 or len(value) > 4096:
                raise ValidationFailed(
                    "custom_parameters keys are 1-256 characters, values at most 4096",
                    field=prefix + "custom_parameters",
                )
        url = await self.endpoints.check(request.url, prefix + "url", STREAM_SCHEMES)
        if url.scheme == "ws":
            self._check_plaintext(await self.endpoints.addresses(url.raw_host.decode("ascii")), prefix + "url")

    async def start_spec(self, account_sid: str, request: StreamRequest, sid: str, prefix: str = "") -> dict[str, Any]:
        """What starts the stream now (app/actions/start_stream.py `StartStream`'s `stream`): its URL resolved and
        checked again, its handshake signed.

        ValidationFailed (400) when the host no longer resolves to an allowed address."""
        field = prefix + "url"
        url = parse_url(request.url, field, STREAM_SCHEMES)
        try:
            addresses = await self.endpoints.addresses(url.raw_host.decode("ascii"))
        except (Unresolvable, EndpointRefused) as exc:
            raise ValidationFailed(f"{field} {exc}", field=field) from None
        if url.scheme == "ws":
            self._check_plaintext(addresses, field)
        headers = await self._signed(account_sid, sid, url.raw_path.decode("ascii"), request)
        spec: dict[str, Any] = {
            "stream_sid": sid,
            "url": str(url),
            "address": str(addresses[0]),
            "account_sid": account_sid,
            "protocol": request.protocol,
            "track": request.track,
            "bidirectional": request.bidirectional,
            "custom_parameters": dict(request.custom_parameters or {}),
            "sample_rate": request.sample_rate,
            "headers": headers,
        }
        return spec

    def _check_plaintext(self, addresses: list[IPAddress], field: str) -> None:
        """ws:// (audio in the clear) only to loopback or to the networks the operator allowed; else wss://."""
        policy = self.endpoints
        for address in addresses:
            inside = any(address in net for net in policy.allowed if net.version == address.version)
            if not inside and not (address.is_loopback and policy.allow_loopback):
                raise ValidationFailed(
                    f"{field}: ws:// is only for loopback or LEGATO_ALLOW_PRIVATE_ENDPOINTS "
                    f"networks ({address} is neither); use wss://",
                    field=field,
                )

    async def _signed(self, account_sid: str, sid: str, target: str, request: StreamRequest) -> dict[str, str]:
        if self.secret is None:
            return {}
        secret = await self.secret(account_sid)
        headers = webhook_headers(sid, json.dumps(target), secret, datetime.now(UTC))
        if request.protocol == "twilio":  # as Twilio signs a stream's handshake: the URL, no parameters
            headers["x-twilio-signature"] = twilio_signature(request.url.partition("#")[0], {}, secret)
        return headers


def from_action(fields: dict[str, Any]) -> StreamRequest:
    """start_stream's flat fields as a StreamRequest (the same checks as `"stream"` on create)."""
    return StreamRequest.model_validate({k: v for k, v in fields.items() if k in STREAM_FIELDS and v is not None})
