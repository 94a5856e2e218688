"""The pool of RTP ports: even ports for RTP, the odd port above each for RTCP."""

from __future__ import annotations

from collections import deque


class PortPool:
    """Hands out even ports from [first, last]; released ports go to the back (least recently used)."""

    def __init__(self, first: int, last: int) -> None:
        if first > last or first < 1024 or last > 65535:
            raise ValueError("port range must be within 1024-65535 and first <= last")
        start = first + (first % 2)
        self._free: deque[int] = deque(range(start, last, 2))  # each needs port+1 <= last
        self._used: set[int] = set()
        self.size = len(self._free)

    @property
    def available(self) -> int:
        return len(self._free)

    def take(self) -> int | None:
        """An even port, or None when the range is exhausted."""
        if not self._free:
            return None
        port = self._free.popleft()
        self._used.add(port)
        return port

    def give_back(self, port: int) -> None:
        """Return a port taken earlier (idempotent)."""
        if port in self._used:
            self._used.remove(port)
            self._free.append(port)

    def candidates(self) -> int:
        """How many takes to try before giving up (ports busy in other processes are skipped)."""
        return len(self._free)
