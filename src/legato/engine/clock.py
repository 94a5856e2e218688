"""The clock call control runs on: real time, optionally faster (`--time-scale`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from legato.domain.clock import Clock, ManualClock, TimerHandle

__all__ = ["Clock", "ManualClock", "ScaledClock", "TimerHandle"]


class ScaledClock:
    """Wall time that runs `scale` times faster than real time from the moment it was made.

    With scale 1 it is the real clock. With scale 50 a 30 s ring timeout fires after 0.6 s of
    real time and the timestamps it reports are 30 s apart, so durations stay meaningful.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._wall0 = datetime.now(UTC)
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=(time.monotonic() - self._mono0) * self.scale)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, seconds) / self.scale, callback)
