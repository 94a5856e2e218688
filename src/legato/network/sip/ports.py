"""RTP port allocation: each leg owns an even port (RTCP takes the odd one above) until it ends."""

from __future__ import annotations

import threading


class PortsExhausted(Exception):
    """Every RTP port of the range is in use."""


class RtpPorts:
    """A thread-safe pool of even RTP ports in [low, high]."""

    def __init__(self, low: int, high: int) -> None:
        first = low + (low % 2)
        self._free = list(range(first, high, 2))
        self._free.reverse()  # pop() hands out the lowest first
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def take(self) -> int:
        """Allocate a port; raises PortsExhausted when none is free."""
        with self._lock:
            if not self._free:
                raise PortsExhausted("no free RTP port")
            port = self._free.pop()
            self._used.add(port)
            return port

    def give_back(self, port: int) -> None:
        """Release a port (releasing twice is harmless)."""
        with self._lock:
            if port in self._used:
                self._used.remove(port)
                self._free.append(port)

    @property
    def in_use(self) -> int:
        """How many ports are allocated now."""
        with self._lock:
            return len(self._used)
