"""The operator's admin token, stored as a hash (one row, `operator`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.store.tables import admin_tokens

OPERATOR = "operator"


class AdminTokenRepository:
    """Reads and writes the admin token's hash."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def token_hash(self) -> str | None:
        query = select(admin_tokens.c.token_hash).where(admin_tokens.c.name == OPERATOR)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def create(self, token_hash: str, now: datetime) -> bool:
        """Store the first token; False when one exists already (another process made it first)."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(admin_tokens).values(name=OPERATOR, token_hash=token_hash, created_at=now, rotated_at=now)
                )
        except IntegrityError:
            return False
        return True

    async def replace(self, token_hash: str, now: datetime) -> None:
        """Store a new token in place of the old one (or the first one)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(admin_tokens)
                .where(admin_tokens.c.name == OPERATOR)
                .values(token_hash=token_hash, rotated_at=now)
            )
        if result.rowcount == 0 and not await self.create(token_hash, now):
            await self.replace(token_hash, now)
