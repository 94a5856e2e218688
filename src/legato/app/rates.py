"""Rate-table use-cases: import the operator's CSV, and the table in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from legato.domain.clock import Clock
from legato.domain.events import iso
from legato.domain.prices import Rate, RateTable, parse_rates
from legato.store.repositories import RateRepository


@dataclass(frozen=True, slots=True)
class ImportedTable:
    """The rate table in force: where it came from, when, its CSV as imported, and its rates."""

    source: str
    imported_at: datetime
    csv: str
    table: RateTable

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "imported_at": iso(self.imported_at), "count": len(self.table),
                "rates": [rate_view(rate) for rate in self.table.rates]}


def rate_view(rate: Rate) -> dict[str, Any]:
    """One rate as the API and the CLI show it (money as an exact decimal string)."""
    return {"prefix": rate.prefix, "price_per_minute": str(rate.price_per_minute), "currency": rate.currency,
            "billing_increment": str(rate.increment), "description": rate.description}


class RateService:
    """Imports rate tables (validated whole before anything is stored) and loads the newest."""

    def __init__(self, repo: RateRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self.loaded_id: int | None = None

    async def import_table(self, text: str, source: str) -> ImportedTable:
        """Validate and store a rate table CSV; servers use it from their next refresh (a few seconds)."""
        table, now = parse_rates(text, source), self.clock.now()
        await self.repo.insert(source, text, now)
        return ImportedTable(source, now, text, table)

    async def in_force(self) -> ImportedTable | None:
        """The table in force with where and when it was imported (leaves `changed()` as it was)."""
        row = await self.repo.newest()
        if row is None:
            return None
        return ImportedTable(row["source"], row["imported_at"], row["body"], parse_rates(row["body"], row["source"]))

    async def newest(self) -> RateTable | None:
        """The table in force, or None when none was imported."""
        row = await self.repo.newest()
        if row is None:
            return None
        self.loaded_id = row["id"]
        return parse_rates(row["body"], row["source"])

    async def changed(self) -> bool:
        """Whether a newer table was imported since the last `newest()`."""
        return await self.repo.newest_id() != self.loaded_id
