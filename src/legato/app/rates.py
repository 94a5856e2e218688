"""Rate-table use-cases: import the operator's CSV, and the table in force."""

from __future__ import annotations

from legato.domain.clock import Clock
from legato.domain.prices import RateTable, parse_rates
from legato.store.repositories import RateRepository


class RateService:
    """Imports rate tables (validated whole before anything is stored) and loads the newest."""

    def __init__(self, repo: RateRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self.loaded_id: int | None = None

    async def import_table(self, text: str, source: str) -> RateTable:
        """Validate and store a rate table CSV; servers use it from their next refresh (a few seconds)."""
        table = parse_rates(text, source)
        await self.repo.insert(source, text, self.clock.now())
        return table

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
