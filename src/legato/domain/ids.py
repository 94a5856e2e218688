"""Identifiers sortable by creation time (KSUID-like), opaque to clients."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_WIDTH = 27  # 160 bits in base62
_RANDOM_BITS = 112
_lock = threading.Lock()
_last = 0


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two base62 digits at a time: half the divisions


def _encode(value: int) -> str:
    pairs = []
    while value:
        value, rem = divmod(value, 3844)
        pairs.append(_PAIRS[rem])
    return "".join(reversed(pairs)).lstrip("0").rjust(_WIDTH, "0")


def new_id(suffix: str = "") -> str:
    """Return a new id: 48 bits of milliseconds then 112 random bits, strictly increasing per process."""
    global _last
    millis = time.time_ns() // 1_000_000
    value = (millis << _RANDOM_BITS) | int.from_bytes(os.urandom(14), "big")
    with _lock:
        if value <= _last:
            value = _last + 1
        _last = value
    return _encode(value) + suffix


def new_leg_sid() -> str:
    """A leg sid, in the seed's 32-character shape (27 sortable characters and a 5-digit shard)."""
    return new_id("00000")


def new_call_sid() -> str:
    """A call sid: the conversation that one or more legs belong to."""
    return new_id("00001")


def new_event_sid() -> str:
    """An event sid, stable across redeliveries (used as the webhook-id)."""
    return new_id("00002")


def new_request_id() -> str:
    """A request id for the API envelope (32 hex characters, like the seed)."""
    return os.urandom(16).hex()


def new_bridge_sid() -> str:
    """A bridge sid: legs joined so they hear each other."""
    return new_id("00003")


def new_conference_sid() -> str:
    """A conference sid: legs mixed so each hears the others."""
    return new_id("00007")
