"""app/streams.py: a stream's handshake headers, checked with the validators the agent's side uses."""

from __future__ import annotations

import asyncio
import json

from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

from legato.app.streams import StreamRequest, Streams
from legato.events.endpoints import EndpointPolicy

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # any whsec_ string: the whole of it is the key


async def _lookup(account_sid: str) -> str:
    return SECRET


def _headers(protocol: str, url: str) -> dict[str, str]:
    streams = Streams(EndpointPolicy(allow_loopback=True), _lookup)
    request = StreamRequest(url=url, protocol=protocol)
    spec = asyncio.run(streams.start_spec("acme", request, "MZtest"))
    return dict(spec["headers"])


def test_a_twilio_stream_handshake_carries_twilio_s_signature_over_the_url() -> None:
    url = "ws://127.0.0.1:8765/agent?call=42&x=y"
    headers = _headers("twilio", url)
    # as Twilio signs a Media Streams handshake: the stream URL, no parameters (a Twilio agent validates it so)
    assert RequestValidator(SECRET).validate(url, {}, headers["x-twilio-signature"])
    assert not RequestValidator(SECRET).validate("ws://127.0.0.1:8765/other", {}, headers["x-twilio-signature"])
    Webhook(SECRET).verify(json.dumps("/agent?call=42&x=y"), headers)  # the Standard Webhooks headers still


def test_an_exotel_stream_handshake_has_only_the_standard_webhooks_headers() -> None:
    headers = _headers("exotel", "ws://127.0.0.1:8765/agent")
    assert "x-twilio-signature" not in headers
    Webhook(SECRET).verify(json.dumps("/agent"), headers)
