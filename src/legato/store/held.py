"""A PostgreSQL connection kept for one writer's transactions, run on the asyncpg driver itself.

Checking a connection out of the pool for each transaction costs a ping (`pool_pre_ping`: three round
trips) and a reset on return; the group-commit writer and the recorder of delivery attempts each keep one
instead, and run their batched statements on its driver (store/direct.py). A transaction that fails gives
the connection back (closed); the next one connects afresh.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from legato.store.direct import DirectStatements


class HeldConnection:
    """One kept connection of `engine` (PostgreSQL) and the `DirectStatements` of its dialect."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self.statements = DirectStatements(engine.dialect)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """A transaction on the kept connection's asyncpg driver (committed when the block ends)."""
        if self._connection is None:
            self._connection = await self._engine.connect()
        connection = self._connection
        try:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            async with driver.transaction():
                yield driver
        except BaseException:
            self._connection = None
            with contextlib.suppress(Exception):
                await connection.close()
            raise

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with contextlib.suppress(Exception):
                await connection.close()
