"""Cheaper versions of three sippy internals that run for every SIP message.

sippy shares the API process's interpreter lock (see reactor.py), so a call that releases and retakes the
lock costs the whole process a hand-over, not just its own time:

- sippy's clock (`MonoTime`, made for every message, timer and loop tick) reads `clock_gettime` through
  ctypes, which releases the lock on each of its two reads; `time.clock_gettime` gives the same float
  from the same clocks without releasing it.
- sippy hands every datagram it sends to a sender thread through a queue (a thread switch, a
  `getaddrinfo` and a `sendto`, each a hand-over); `DirectUdpServer` sends a datagram to a numeric IPv4
  address straight from the sippy thread, and only what that cannot send (a host name, an error such
  as a full buffer) goes through the queue to be resolved and retried as before.
- sippy draws each branch, tag and Call-ID with `secrets.token_hex`, one `getrandom` system call each;
  `token_hex` here takes the same OS random bytes from the pool the ids use (domain/ids.py).
"""

from __future__ import annotations

import importlib
import socket
import time
from typing import Any

from sippy.Udp_server import Udp_server

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


class DirectUdpServer(Udp_server):  # type: ignore[misc]
    """sippy's UDP server, sending to numeric IPv4 addresses from the calling (sippy) thread."""

    def send_to(self, data: bytes | str, address: Any, delayed: bool = False) -> None:
        """Send now when the address is a numeric IPv4 one and nothing waits in the queue, else queue it."""
        skt = self.skt
        if skt is None or self.uopts.family != socket.AF_INET or self.sendqueue.qsize() or \
                self.uopts.ploss_out_rate > 0.0 or self.uopts.pdelay_out_max > 0.0:
            super().send_to(data, address, delayed)
            return
        payload = data if isinstance(data, bytes) else data.encode("utf-8")
        host, port = address
        try:
            socket.inet_pton(socket.AF_INET, host)
            if skt.sendto(payload, (host, int(port))) == len(payload):
                return
        except (OSError, TypeError, ValueError):
            pass  # a name, or a send that failed: the sender thread resolves and retries it
        super().send_to(payload, address, delayed)
