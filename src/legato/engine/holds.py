"""Who holds a live leg (a bridge, a conference), and how each lets it go.

A leg is in one holder at most. Each holder (engine/bridges.py `Bridges`, engine/conferences.py
`Conferences`) registers with the switchboard's `Holds` when it is built; a new kind of holder (a queue, a
stream agent) registers the same way, and the rules follow: a held leg cannot join another holder (409),
and an attended transfer (engine/transfers.py) takes the transferred leg from whatever holds it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from legato.domain.errors import Conflict

AT_MOST_ONE = "a leg is in one bridge or conference at most"


class Holder(Protocol):
    """Something that holds legs: it says which, and lets one go."""

    def holding(self, leg_sid: str) -> str | None:
        """What holds the leg, said for a 409 ("bridge X", "conference X"), or None."""

    def let_go(self, leg_sid: str) -> asyncio.Future[Any] | None:
        """Let the leg go (it stays up; an attended transfer bridges it elsewhere); None when not held."""


class Holds:
    """The holders of this process, in the order they registered."""

    def __init__(self) -> None:
        self.holders: list[Holder] = []

    def register(self, holder: Holder) -> None:
        self.holders.append(holder)

    def holding(self, leg_sid: str, *, besides: Holder | None = None) -> str | None:
        """What holds the leg (a holder other than `besides`), or None."""
        for holder in self.holders:
            if holder is not besides and (held := holder.holding(leg_sid)) is not None:
                return held
        return None

    def require_free(self, leg_sid: str, field: str, *, besides: Holder | None = None) -> None:
        """Conflict when a holder (other than `besides`) holds the leg."""
        held = self.holding(leg_sid, besides=besides)
        if held is not None:
            raise Conflict(f"leg {leg_sid} is already in {held}; {AT_MOST_ONE}", field=field)

    def let_go(self, leg_sid: str) -> list[asyncio.Future[Any]]:
        """Every holder lets the leg go; the futures resolve once that is durable."""
        return [left for holder in self.holders if (left := holder.let_go(leg_sid)) is not None]
