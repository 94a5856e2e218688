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
_POOL_BYTES = 4096  # random bytes read from the OS at once: one system call per ~290 ids, not one per id
_pool = b""
_taken = 0


_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # two base62 digits at a time: half the divisions


def _encode(value: int) -> str:
    pairs = []
    while value:
        value, rem = divmod(value, 3844)
        pairs.append(_PAIRS[rem])
    return "".join(reversed(pairs)).lstrip("0").rjust(_WIDTH, "0")


def _random_bytes(count: int) -> bytes:
    """`count` bytes from the OS's random source, taken from a pool read `_POOL_BYTES` at a time (each read
    is a system call that also hands the interpreter lock to another thread); the caller holds `_lock`."""
    global _pool, _taken
    if _taken + count > len(_pool):
        _pool, _taken = os.urandom(_POOL_BYTES), 0
    _taken += count
    return _pool[_taken - count:_taken]


def _forget_pool() -> None:
    """A forked child must not hand out the random bytes its parent will also use."""
    global _pool, _taken
    _pool, _taken = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


def new_id(suffix: str = "") -> str:
    """Return a new id: 48 bits of milliseconds then 112 random bits, strictly increasing per process."""
    global _last
    millis = time.time_ns() // 1_000_000
    with _lock:
        value = (millis << _RANDOM_BITS) | int.from_bytes(_random_bytes(14), "big")
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


def random_bytes(count: int) -> bytes:
    """`count` bytes from the OS's random source (from the pool; any thread)."""
    with _lock:
        return _random_bytes(count)


def new_request_id() -> str:
    """A request id for the API envelope (32 hex characters, like the seed)."""
    return random_bytes(16).hex()


def new_bridge_sid() -> str:
    """A bridge sid: legs joined so they hear each other."""
    return new_id("00003")


def new_conference_sid() -> str:
    """A conference sid: legs mixed so each hears the others."""
    return new_id("00007")
