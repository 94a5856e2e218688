"""Node rows: who holds which name, at which epoch, until when; and which nodes own live legs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.leg import LegState
from legato.store.tables import bridges, conferences, legs, nodes


class NodeRepository:
    """The `nodes` table. Every change of a name's holder bumps its epoch, conditionally on the epoch seen."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(nodes).where(nodes.c.name == name))).mappings().first()
        return dict(row) if row else None

    async def insert(self, name: str, epoch: int, expires: datetime, now: datetime, host: str | None,
                     pid: int | None) -> bool:
        """Create the name's row; False when another process created it first."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(nodes).values(name=name, epoch=epoch, lease_expires_at=expires,
                                                        renewed_at=now, started_at=now, host=host, pid=pid))
        except IntegrityError:
            return False
        return True

    async def take(self, name: str, seen_epoch: int, **values: Any) -> bool:
        """Move the name to epoch `seen_epoch + 1` (with `values`) if nobody moved it since; True if we did."""
        query = (update(nodes).where(nodes.c.name == name, nodes.c.epoch == seen_epoch)
                 .values(epoch=seen_epoch + 1, **values))
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount == 1

    async def renew(self, name: str, epoch: int, expires: datetime, now: datetime) -> bool:
        """Extend the lease; False when the name is at another epoch (this holder was fenced)."""
        query = (update(nodes).where(nodes.c.name == name, nodes.c.epoch == epoch)
                 .values(lease_expires_at=expires, renewed_at=now))
        async with self._engine.begin() as conn:
            return (await conn.execute(query)).rowcount == 1

    async def owners_of_live_work(self) -> set[str]:
        """Names of the nodes that own a live leg, an active bridge or an active conference."""
        query = union(
            select(legs.c.node).where(legs.c.state != LegState.TERMINAL.value, legs.c.node.is_not(None)),
            select(bridges.c.node).where(bridges.c.state == "active", bridges.c.node.is_not(None)),
            select(conferences.c.node).where(conferences.c.state == "active", conferences.c.node.is_not(None)))
        async with self._engine.connect() as conn:
            return {row[0] for row in (await conn.execute(query)).all()}
