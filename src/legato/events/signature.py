"""Standard Webhooks signatures over the JSON body of an event (the same for the HTTP and gRPC sinks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """The exact body sent and the three Standard Webhooks headers that sign it."""

    event_sid: str
    body: str
    headers: dict[str, str]


def encode_payload(payload: dict[str, Any]) -> str:
    """The JSON body of an event: compact, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def webhook_headers(message_id: str, body: str, secret: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers signing `body` with the account's `whsec_` secret at wall time `at`
    (events, call-flow requests, media-stream handshakes)."""
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body)}


def sign_event(event_sid: str, payload: dict[str, Any], secret: str, at: datetime) -> SignedEvent:
    """Sign `payload` with the account's `whsec_` secret at wall time `at` (webhook-id = event_sid)."""
    body = encode_payload(payload)
    return SignedEvent(event_sid, body, webhook_headers(event_sid, body, secret, at))
