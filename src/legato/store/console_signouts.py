"""Console session cookies signed out before they expire: refused until then (the cookie is stateless)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.store.tables import console_signouts


class ConsoleSignoutRepository:
    """The `console_signouts` table, by the sha256 of a cookie's value."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def sign_out(self, digest: str, expires_at: datetime, now: datetime) -> None:
        """Refuse this cookie from now on; forget the sign-outs of cookies that have expired anyway."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(console_signouts).where(console_signouts.c.expires_at <= now))
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(console_signouts).values(digest=digest, expires_at=expires_at))
            except IntegrityError:
                pass  # signed out already

    async def signed_out(self, digest: str) -> bool:
        query = select(console_signouts.c.digest).where(console_signouts.c.digest == digest)
        async with self._engine.connect() as conn:
            return (await conn.execute(query)).first() is not None
