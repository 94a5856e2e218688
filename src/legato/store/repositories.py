"""Reads and the few direct writes (accounts) of the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain.leg import Leg, LegState
from legato.store.rows import leg_from_row
from legato.store.tables import accounts, bridges, conferences, events, legs, rate_tables


class AccountRepository:
    """Accounts: credentials (hashed), secrets (encrypted) and limits."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, row: dict[str, Any]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(insert(accounts).values(**row))

    async def update(self, account_sid: str, values: dict[str, Any]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(accounts).where(accounts.c.account_sid == account_sid).values(**values))

    async def get(self, account_sid: str) -> dict[str, Any] | None:
        return await _first(self._engine, select(accounts).where(accounts.c.account_sid == account_sid))

    async def by_api_key(self, api_key: str) -> dict[str, Any] | None:
        return await _first(self._engine, select(accounts).where(accounts.c.api_key == api_key))

    async def all(self) -> list[dict[str, Any]]:
        return await _all(self._engine, select(accounts).order_by(accounts.c.created_at))


class LegRepository:
    """Legs and their outbox events, as committed."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, account_sid: str, leg_sid: str) -> Leg | None:
        """The leg if it belongs to the account; None for unknown and for other accounts' legs alike."""
        query = select(legs).where(legs.c.leg_sid == leg_sid, legs.c.account_sid == account_sid)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return leg_from_row(row) if row else None

    async def page(self, account_sid: str, *, state: str | None, direction: str | None,
                   date_from: datetime | None, date_to: datetime | None, limit: int,
                   before: str | None) -> list[Leg]:
        """Newest first; `before` is the last leg_sid of the previous page (sids sort by creation)."""
        query = select(legs).where(legs.c.account_sid == account_sid)
        if state:
            query = query.where(legs.c.state == state)
        if direction:
            query = query.where(legs.c.direction == direction)
        if date_from:
            query = query.where(legs.c.date_created >= date_from)
        if date_to:
            query = query.where(legs.c.date_created < date_to)
        if before:
            query = query.where(legs.c.leg_sid < before)
        query = query.order_by(legs.c.leg_sid.desc()).limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [leg_from_row(r) for r in rows]

    async def by_call(self, account_sid: str, call_sid: str) -> list[Leg]:
        """The account's legs of one call, oldest first (empty for unknown calls and other accounts')."""
        query = select(legs).where(legs.c.account_sid == account_sid, legs.c.call_sid == call_sid)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(legs.c.leg_sid))).mappings().all()
        return [leg_from_row(r) for r in rows]

    async def created_between(self, account_sid: str, date_from: datetime | None, date_to: datetime | None,
                              limit: int) -> list[Leg]:
        """The account's legs created in [date_from, date_to), newest first, at most `limit`."""
        query = select(legs).where(legs.c.account_sid == account_sid)
        if date_from:
            query = query.where(legs.c.date_created >= date_from)
        if date_to:
            query = query.where(legs.c.date_created < date_to)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(legs.c.leg_sid.desc()).limit(limit))).mappings().all()
        return [leg_from_row(r) for r in rows]

    async def live(self, owner: str) -> list[Leg]:
        """Every leg node `owner` holds that is not yet terminal (to reconcile when that node is gone)."""
        query = (select(legs).where(legs.c.state != LegState.TERMINAL.value, legs.c.node == owner)
                 .order_by(legs.c.leg_sid))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [leg_from_row(r) for r in rows]

    async def events(self, leg_sid: str) -> list[dict[str, Any]]:
        """The leg's outbox rows in sequence order."""
        return await _events_of(self._engine, "leg", leg_sid)

    async def count_live(self, account_sid: str) -> int:
        query = select(func.count()).select_from(legs).where(
            legs.c.account_sid == account_sid, legs.c.state != LegState.TERMINAL.value)
        async with self._engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())


class BridgeRepository:
    """Bridges as committed (their events are in the outbox with subject "bridge")."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, account_sid: str, bridge_sid: str) -> dict[str, Any] | None:
        query = select(bridges).where(bridges.c.bridge_sid == bridge_sid, bridges.c.account_sid == account_sid)
        return await _first(self._engine, query)

    async def recent(self, account_sid: str, limit: int) -> list[dict[str, Any]]:
        """The account's newest bridges, newest first (the console lists them)."""
        query = (select(bridges).where(bridges.c.account_sid == account_sid)
                 .order_by(bridges.c.date_created.desc(), bridges.c.bridge_sid.desc()).limit(limit))
        return await _all(self._engine, query)

    async def active(self, owner: str) -> list[dict[str, Any]]:
        """Bridges of node `owner` not yet terminated (to reconcile when that node is gone)."""
        query = (select(bridges).where(bridges.c.state == "active", bridges.c.node == owner)
                 .order_by(bridges.c.bridge_sid))
        return await _all(self._engine, query)

    async def events(self, bridge_sid: str) -> list[dict[str, Any]]:
        """The bridge's outbox rows in sequence order."""
        return await _events_of(self._engine, "bridge", bridge_sid)


async def _events_of(engine: AsyncEngine, subject: str, sid: str) -> list[dict[str, Any]]:
    """The outbox rows of one event stream (a leg's, a bridge's or a conference's), in sequence order."""
    query = select(events).where(events.c.subject == subject, events.c.subject_sid == sid)
    return await _all(engine, query.order_by(events.c.sequence))


async def _all(engine: AsyncEngine, query: Any) -> list[dict[str, Any]]:
    """Every row `query` selects, as dicts."""
    async with engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings().all()]


async def _first(engine: AsyncEngine, query: Any) -> dict[str, Any] | None:
    """The first row `query` selects, as a dict, or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


class ConferenceRepository:
    """Conferences as committed (their events are in the outbox with subject "conference")."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, account_sid: str, conference_sid: str) -> dict[str, Any] | None:
        query = select(conferences).where(conferences.c.conference_sid == conference_sid,
                                          conferences.c.account_sid == account_sid)
        return await _first(self._engine, query)

    async def recent(self, account_sid: str, limit: int, state: str | None = None) -> list[dict[str, Any]]:
        """The account's newest conferences (optionally only those in `state`), newest first."""
        query = select(conferences).where(conferences.c.account_sid == account_sid)
        if state is not None:
            query = query.where(conferences.c.state == state)
        query = query.order_by(conferences.c.date_created.desc(), conferences.c.conference_sid.desc()).limit(limit)
        return await _all(self._engine, query)

    async def active(self, owner: str) -> list[dict[str, Any]]:
        """Conferences of node `owner` not yet completed (to reconcile when that node is gone)."""
        query = (select(conferences).where(conferences.c.state == "active", conferences.c.node == owner)
                 .order_by(conferences.c.conference_sid))
        return await _all(self._engine, query)

    async def events(self, conference_sid: str) -> list[dict[str, Any]]:
        """The conference's outbox rows in sequence order."""
        return await _events_of(self._engine, "conference", conference_sid)


class RateRepository:
    """Imported rate tables; the newest is in force."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, source: str, body: str, imported_at: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(insert(rate_tables).values(source=source, body=body, imported_at=imported_at))
            return int(result.inserted_primary_key[0])

    async def newest_id(self) -> int | None:
        async with self._engine.connect() as conn:
            return (await conn.execute(select(func.max(rate_tables.c.id)))).scalar_one()

    async def newest(self) -> dict[str, Any] | None:
        query = select(rate_tables).order_by(rate_tables.c.id.desc()).limit(1)
        return await _first(self._engine, query)
