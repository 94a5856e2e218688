"""Standard Webhooks signatures over the body of an event (the same for the HTTP and gRPC sinks); a body made
as a Twilio form (dialects/forms.py) is form-encoded and also signed with X-Twilio-Signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from standardwebhooks import Webhook

from legato.dialects.forms import form_of

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """The exact body sent and the three Standard Webhooks headers that sign it."""

    event_sid: str
    body: str
    headers: dict[str, str]
    method: str = "POST"
    content_type: str | None = JSON  # None: no body (a GET)
    query: str = ""  # a GET's form parameters, added to the endpoint's query string


def encode_payload(payload: dict[str, Any]) -> str:
    """The JSON body of an event: compact, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def webhook_headers(message_id: str, body: str, secret: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers signing `body` with the account's `whsec_` secret at wall time `at`
    (events, call-flow requests, media-stream handshakes)."""
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body)}


def twilio_signature(url: str, params: Mapping[str, str], key: str) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 over the URL and, for a POST, each parameter's name and value
    in name order (Twilio's documented algorithm; a GET passes no params: they are in the URL)."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(key.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def sign_event(event_sid: str, payload: dict[str, Any], secret: str, at: datetime, endpoint: str = "") -> SignedEvent:
    """Sign `payload` with the account's `whsec_` secret at wall time `at` (webhook-id = event_sid). A Twilio form
    body for `endpoint` goes as Twilio sends a callback: X-Twilio-Signature over the URL as requested and the
    form, I-Twilio-Idempotency-Token = webhook-id (the same on every retry)."""
    form = form_of(payload)
    if form is None:
        body = encode_payload(payload)
        return SignedEvent(event_sid, body, webhook_headers(event_sid, body, secret, at))
    params, method = form
    url = endpoint.partition("#")[0]
    if method == "GET":
        query = urlencode(params)
        split = urlsplit(url)
        url = split._replace(query="&".join(q for q in (split.query, query) if q)).geturl()
        body, signed, content_type = "", {}, None
    else:
        query, body, signed, content_type = "", urlencode(params), params, FORM
    headers = {"x-twilio-signature": twilio_signature(url, signed, secret), "i-twilio-idempotency-token": event_sid,
               **webhook_headers(event_sid, body, secret, at)}
    return SignedEvent(event_sid, body, headers, method, content_type, query)
