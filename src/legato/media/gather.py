"""Collecting digits: a small state machine fed digits and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from legato.media.telephone_event import DIGITS


@dataclass(frozen=True, slots=True)
class GatherResult:
    digits: str
    reason: str  # num_digits | finish_on_key | timeout | stopped | released


class Gather:
    """Ends on `num_digits`, on `finish_on_key` (not included), or after `timeout` s without a digit."""

    def __init__(self, num_digits: int | None, timeout: float, finish_on_key: str | None, now: float) -> None:
        if num_digits is not None and not 1 <= num_digits <= 128:
            raise ValueError("num_digits must be 1..128")
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be within (0, 600] seconds")
        if finish_on_key and (len(finish_on_key) != 1 or finish_on_key.upper() not in DIGITS):
            raise ValueError("finish_on_key must be one DTMF key")
        self.num_digits = num_digits
        self.timeout = timeout
        self.finish_on_key = finish_on_key.upper() if finish_on_key else None
        self.digits = ""
        self.deadline = now + timeout

    def on_digit(self, digit: str, now: float) -> GatherResult | None:
        digit = digit.upper()
        if self.finish_on_key and digit == self.finish_on_key:
            return GatherResult(self.digits, "finish_on_key")
        self.digits += digit
        self.deadline = now + self.timeout
        if self.num_digits is not None and len(self.digits) >= self.num_digits:
            return GatherResult(self.digits, "num_digits")
        return None

    def on_clock(self, now: float) -> GatherResult | None:
        return GatherResult(self.digits, "timeout") if now >= self.deadline else None
