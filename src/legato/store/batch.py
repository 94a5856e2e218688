"""What one group commit of the writer (store/writer.py) carries: per subject, the newest snapshot and the
events in order, with the futures of those who submitted them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Row:
    new: bool
    row: dict[str, Any]


@dataclass(slots=True)
class Batch:
    """Writes gathered for one transaction, per subject sid (leg, bridge, conference): the newest snapshot, events
    in order."""

    legs: dict[str, Row] = field(default_factory=dict)
    bridges: dict[str, Row] = field(default_factory=dict)
    conferences: dict[str, Row] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    futures: dict[str, list[asyncio.Future[None]]] = field(default_factory=dict)

    def add(self, sid: str, kind: dict[str, Row], row: dict[str, Any] | None, new: bool,
            new_events: list[dict[str, Any]], future: asyncio.Future[None]) -> None:
        if row is not None:
            old = kind.get(sid)
            kind[sid] = Row(new or (old is not None and old.new), row)
        if new_events:
            self.events.setdefault(sid, []).extend(new_events)
        self.futures.setdefault(sid, []).append(future)

    def absorb(self, other: Batch) -> None:
        """Take `other` (submitted later) into this batch."""
        for mine, theirs in ((self.legs, other.legs), (self.bridges, other.bridges),
                             (self.conferences, other.conferences)):
            for sid, item in theirs.items():
                old = mine.get(sid)
                mine[sid] = Row(item.new or (old is not None and old.new), item.row)
        for sid, rows in other.events.items():
            self.events.setdefault(sid, []).extend(rows)
        for sid, futures in other.futures.items():
            self.futures.setdefault(sid, []).extend(futures)

    def split(self) -> list[Batch]:
        """One batch per sid, to find the write the database refuses."""
        parts = []
        for sid, futures in self.futures.items():
            part = Batch(futures={sid: futures})
            if sid in self.legs:
                part.legs[sid] = self.legs[sid]
            if sid in self.bridges:
                part.bridges[sid] = self.bridges[sid]
            if sid in self.conferences:
                part.conferences[sid] = self.conferences[sid]
            if sid in self.events:
                part.events[sid] = self.events[sid]
            parts.append(part)
        return parts

    def all_events(self) -> list[dict[str, Any]]:
        return [row for rows in self.events.values() for row in rows]

    def settle(self, error: BaseException | None = None) -> None:
        for futures in self.futures.values():
            for future in futures:
                if not future.done():
                    future.set_result(None) if error is None else future.set_exception(error)
