"""Idempotency-Key on creates and actions: a retried request gets the first answer and does nothing new.

A key belongs to one account for 24 hours. The first request claims it in the database (so concurrent
duplicates, in any process, cannot both act), acts, and stores its answer; a request that did nothing
(any error) releases it. The same key with another request is a 409 naming the key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from legato.domain.clock import Clock
from legato.domain.errors import Conflict, ValidationFailed
from legato.store.idempotency import IdempotencyRepository

HEADER = "Idempotency-Key"
WINDOW = timedelta(hours=24)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True, slots=True)
class Answer:
    """A stored first answer: status code and body, replayed byte for byte."""

    status_code: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


class IdempotencyService:
    """Claim, answer and release keys."""

    def __init__(self, repo: IdempotencyRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock

    async def claim(self, account_sid: str, key: str, request: str) -> Answer | None:
        """None: the caller holds the key and must act, then `answer` or `release`. An Answer: replay it."""
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
            raise Conflict(f"the first request with {HEADER} {key} is still running (or was cut off by a "
                           "restart); retry later", field=HEADER)
        return Answer(row["status_code"], row["body"])

    async def answer(self, account_sid: str, key: str, answer: Answer) -> None:
        await self.repo.answer(account_sid, key, answer.status_code, answer.body)

    async def release(self, account_sid: str, key: str) -> None:
        await self.repo.release(account_sid, key)
