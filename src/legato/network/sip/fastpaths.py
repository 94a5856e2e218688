"""Cheaper versions of two sippy internals that run for every SIP message.

sippy shares the API process's interpreter lock (see reactor.py), so a call that releases and retakes the
lock costs the whole process a hand-over, not just its own time:

- sippy's clock (`MonoTime`, made for every message, timer and loop tick) reads `clock_gettime` through
  ctypes, which releases the lock on each of its two reads; `time.clock_gettime` gives the same float
  from the same clocks without releasing it.
- sippy draws each branch, tag and Call-ID with `secrets.token_hex`, one `getrandom` system call each;
  `token_hex` here takes the same OS random bytes from the pool the ids use (domain/ids.py).
"""

from __future__ import annotations

import importlib
import time

from legato.domain.ids import random_bytes

_TOKEN_USERS = ("sippy.SipVia", "sippy.SipFrom", "sippy.SipCallId", "sippy.UA")  # branches, tags, Call-IDs


def token_hex(nbytes: int = 32) -> str:
    """`secrets.token_hex`, from the pooled OS random bytes."""
    return random_bytes(nbytes).hex()


def install() -> None:
    """Make sippy's MonoTime read its clocks with `time.clock_gettime` (same clock ids, same floats), and its
    branches, tags and Call-IDs come from `token_hex` above. Idempotent."""
    importlib.import_module("sippy.Time.MonoTime").clock_getdtime = time.clock_gettime
    for name in _TOKEN_USERS:
        importlib.import_module(name).token_hex = token_hex
