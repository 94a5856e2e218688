"""Idempotency keys: one row per account and key, claimed by the first request, then its answer."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.store.tables import idempotency_keys as keys

SWEEP_EVERY = 60.0  # seconds between sweeps of all expired keys


class IdempotencyRepository:
    """Claims are inserts on the (account_sid, idempotency_key) primary key, so only one request, in any
    process, can hold a key."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._swept_at = -SWEEP_EVERY  # monotonic time of the last sweep of every account's expired keys

    def _expired(self, account_sid: str, key: str, expired_before: datetime) -> list[Any]:
        """What a claim deletes first: this key if expired, and once a minute every expired key (not every
        claim: that would scan the table on each request)."""
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_EVERY:
            self._swept_at = now
            return [keys.c.created_at < expired_before]
        return [keys.c.account_sid == account_sid, keys.c.idempotency_key == key, keys.c.created_at < expired_before]

    async def claim(self, account_sid: str, key: str, fingerprint: str, now: datetime, expired_before: datetime
                    ) -> dict[str, Any] | None:
        """Claim the key (dropping expired keys first): None when claimed, else the row that holds it."""
        for _ in range(3):  # the holder may release it between our insert and our read
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(delete(keys).where(*self._expired(account_sid, key, expired_before)))
                    await conn.execute(insert(keys).values(account_sid=account_sid, idempotency_key=key,
                                                           fingerprint=fingerprint, created_at=now))
                return None
            except IntegrityError:
                pass
            async with self._engine.connect() as conn:
                row = (await conn.execute(select(keys).where(keys.c.account_sid == account_sid,
                                                             keys.c.idempotency_key == key))).mappings().first()
            if row is not None:
                return dict(row)
        raise RuntimeError("idempotency key claim did not settle")

    async def bind(self, account_sid: str, key: str, resource_sid: str) -> None:
        """Name what the first request is about to make durable (a leg_sid), before it does."""
        async with self._engine.begin() as conn:
            await conn.execute(update(keys).where(keys.c.account_sid == account_sid, keys.c.idempotency_key == key)
                               .values(resource_sid=resource_sid))

    async def take_over(self, account_sid: str, key: str, claimed_at: datetime, now: datetime) -> bool:
        """Claim a key whose first request was cut off (still claimed at `claimed_at`, unanswered): True when
        this caller won it (concurrent retries race on the claim time)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(keys).where(keys.c.account_sid == account_sid, keys.c.idempotency_key == key,
                                   keys.c.created_at == claimed_at, keys.c.status_code.is_(None))
                .values(created_at=now, resource_sid=None))
        return bool(result.rowcount)

    async def answer(self, account_sid: str, key: str, status_code: int, body: str) -> None:
        """Record the first request's answer."""
        async with self._engine.begin() as conn:
            await conn.execute(update(keys).where(keys.c.account_sid == account_sid, keys.c.idempotency_key == key)
                               .values(status_code=status_code, body=body))

    async def release(self, account_sid: str, key: str) -> None:
        """Give the key up (the request did nothing): the next request with it acts."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(keys).where(keys.c.account_sid == account_sid, keys.c.idempotency_key == key,
                                                  keys.c.status_code.is_(None)))
