"""Console sessions: a short-lived, HMAC-signed cookie naming who signed in.

The cookie holds `base64(json).signature`; the JSON names the principal kind (`account`, or `operator`
signed in with the admin token), the account sid (empty for the operator), the expiry and a nonce. Signing
out stores the cookie's digest, so a copy of it is refused on every node until it would have expired. The signature
covers the JSON and the principal's current token hash, so rotating the API token (or the admin token)
ends every console session made with the old one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "legato_console"
LIFETIME = 8 * 3600  # seconds a sign-in lasts
ACCOUNT, OPERATOR = "account", "operator"


@dataclass(frozen=True)
class Session:
    kind: str  # ACCOUNT or OPERATOR
    account_sid: str
    expires: int


def _sign(key: bytes, payload: bytes, token_hash: str) -> str:
    mac = hmac.new(key, payload + b"|" + token_hash.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(key: bytes, account_sid: str, token_hash: str, now: float | None = None, kind: str = ACCOUNT) -> str:
    """The cookie value for an account (or, with `kind=OPERATOR` and no sid, the operator) that just signed in."""
    expires = int((now if now is not None else time.time()) + LIFETIME)
    nonce = secrets.token_urlsafe(9)  # every sign-in its own cookie, so signing one out ends only that one
    payload = json.dumps({"k": kind, "a": account_sid, "e": expires, "n": nonce}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _sign(key, payload, token_hash)


def peek(value: str) -> Session | None:
    """The session the cookie claims (not yet verified), or None when it is malformed or expired."""
    try:
        encoded = value.split(".", 1)[0]
        data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        session = Session(str(data["k"]), str(data["a"]), int(data["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def digest(value: str) -> str:
    """How a signed-out cookie is remembered (store/console_signouts.py): never the cookie itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def verify(key: bytes, value: str, token_hash: str) -> bool:
    """True when the cookie was signed by this server for the account's current token."""
    encoded, _, signature = value.partition(".")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return False
    return hmac.compare_digest(_sign(key, payload, token_hash), signature)
