"""Idempotency-Key on creates and actions: a retried request gets the first answer and does nothing new.

A key belongs to one account for 24 hours. The first request claims it in the database (so concurrent
duplicates, in any process, cannot both act), acts, and stores its answer; a request that did nothing
(any error) releases it. The same key with another request is a 409 naming the key.

A create binds its key to the leg_sid it is about to make durable (`bind_current`, before the leg's own
write). A first request cut off by a crash (claimed, unanswered for `STALE`) is then settled by the leg:
if it exists the retry gets it as the answer, if not nothing was accepted and the retry acts.
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from legato.domain.clock import Clock
from legato.domain.errors import Conflict, ValidationFailed
from legato.store.idempotency import IdempotencyRepository

HEADER = "Idempotency-Key"
WINDOW = timedelta(hours=24)
STALE = timedelta(seconds=60)  # a first request unanswered this long was cut off (requests end within seconds)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True, slots=True)
class Answer:
    """A stored first answer: status code and body, replayed byte for byte."""

    status_code: int
    body: str


@dataclass(frozen=True, slots=True)
class Bound:
    """A first request cut off after naming what it made (`resource_sid`): look that up to settle the key."""

    resource_sid: str
    claimed_at: datetime


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


class IdempotencyService:
    """Claim, answer and release keys."""

    def __init__(self, repo: IdempotencyRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def claim(self, account_sid: str, key: str, request: str) -> Answer | Bound | None:
        """None: the caller holds the key and must act, then `answer` or `release`. An Answer: replay it.
        Bound: the first request was cut off after binding; the caller answers with the resource if it
        exists, else `take_over`s the key."""
        if not _KEY.match(key):
            raise ValidationFailed(f"{HEADER} must be 1 to 255 visible ASCII characters", field=HEADER)
        now = self.clock.now()
        row = await self.repo.claim(account_sid, key, request, now, now - WINDOW)
        if row is None:
            return None
        if row["fingerprint"] != request:
            raise Conflict(f"{HEADER} {key} was used with another request; use a new key for a new request",
                           field=HEADER)
        if row["status_code"] is None:
            if row["created_at"] <= now - STALE:  # cut off by a crash or restart
                if row["resource_sid"]:
                    return Bound(row["resource_sid"], row["created_at"])
                if await self.repo.take_over(account_sid, key, row["created_at"], now):
                    return None
            raise Conflict(f"the first request with {HEADER} {key} is still running; retry later", field=HEADER)
        return Answer(row["status_code"], row["body"])

    async def take_over(self, account_sid: str, key: str, bound: Bound) -> None:
        """Hold the key of a first request that was cut off before it made anything durable."""
        if not await self.repo.take_over(account_sid, key, bound.claimed_at, self.clock.now()):
            raise Conflict(f"the first request with {HEADER} {key} is still running; retry later", field=HEADER)

    async def answer(self, account_sid: str, key: str, answer: Answer) -> None:
        await self.repo.answer(account_sid, key, answer.status_code, answer.body)

    async def release(self, account_sid: str, key: str) -> None:
        await self.repo.release(account_sid, key)


_held: ContextVar[tuple[IdempotencyService, str, str] | None] = ContextVar("idempotency_key_held", default=None)


def hold(service: IdempotencyService, account_sid: str, key: str) -> object:
    """Mark the running request as the holder of `key` (for `bind_current`); returns the token to `release_hold`."""
    return _held.set((service, account_sid, key))


def release_hold(token: object) -> None:
    _held.reset(token)  # type: ignore[arg-type]


async def bind_current(resource_sid: str) -> None:
    """Bind the running request's key (if it has one) to what it is about to make durable."""
    held = _held.get()
    if held is not None:
        service, account_sid, key = held
        await service.repo.bind(account_sid, key, resource_sid)
