"""A call: the read-only view of one call_sid and the legs that belong to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from legato.domain.errors import ValidationFailed
from legato.domain.leg import Leg


@dataclass(frozen=True, slots=True)
class Call:
    """One call_sid and its legs, oldest first; the first leg is the master (it opened the call)."""

    call_sid: str
    account_sid: str
    legs: tuple[Leg, ...]

    @classmethod
    def of(cls, legs: Iterable[Leg]) -> Call:
        """Build the view from legs of one call (in any order)."""
        ordered = tuple(sorted(legs, key=lambda leg: (leg.date_created, leg.leg_sid)))
        if not ordered:
            raise ValidationFailed("a call needs at least one leg", field="legs")
        first = ordered[0]
        for leg in ordered:
            if leg.call_sid != first.call_sid or leg.account_sid != first.account_sid:
                raise ValidationFailed(f"leg {leg.leg_sid} belongs to another call", field="legs")
        return cls(call_sid=first.call_sid, account_sid=first.account_sid, legs=ordered)

    @property
    def master(self) -> Leg:
        return self.legs[0]

    @property
    def is_live(self) -> bool:
        return any(not leg.is_terminal for leg in self.legs)

    @property
    def date_updated(self) -> datetime:
        """The latest change to any of its legs."""
        return max(leg.date_updated or leg.date_created for leg in self.legs)

    @property
    def end_time(self) -> datetime | None:
        """When the last leg ended, or None while any leg is live."""
        if self.is_live:
            return None
        return max((leg.end_time for leg in self.legs if leg.end_time is not None), default=None)
