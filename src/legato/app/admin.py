"""The operator's admin token: made at the first start, shown once, stored hashed, rotated from the host."""

from __future__ import annotations

import secrets
import time

from legato.app.legs import LegAction, LegService
from legato.domain.account import Account
from legato.domain.clock import Clock
from legato.domain.errors import LegatoError, Unauthorized
from legato.store.admin_tokens import AdminTokenRepository
from legato.store.secrets import hash_token, token_matches

PREFIX = "adm_"
_CACHE_SECONDS = 5.0  # a rotation on another process is seen within this long


def new_admin_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class AdminTokens:
    """Checks `Authorization: Bearer` admin tokens against the stored hash."""

    def __init__(self, repo: AdminTokenRepository, clock: Clock) -> None:
        self.repo = repo
        self.clock = clock
        self._cached: tuple[float, str | None] | None = None

    async def ensure(self) -> str | None:
        """Make the admin token when the database has none: the token (to show once), else None."""
        if await self.repo.token_hash() is not None:
            return None
        token = new_admin_token()
        return token if await self.repo.create(hash_token(token), self.clock.now()) else None

    async def rotate(self) -> str:
        """A new admin token in place of the old one, which stops working (on every node within 5 s)."""
        token = new_admin_token()
        await self.repo.replace(hash_token(token), self.clock.now())
        self._cached = None
        return token

    async def check(self, token: str) -> None:
        """Unauthorized unless `token` is the current admin token."""
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] >= _CACHE_SECONDS:
            self._cached = (now, await self.repo.token_hash())
        stored = self._cached[1]
        if stored is None or not token_matches(token, stored):
            raise Unauthorized("invalid admin token", field="Authorization", challenge='Bearer realm="legato-admin"')


async def cancel_enqueued(legs: LegService, account: Account) -> int:
    """End a disabled account's legs still waiting for a CPS slot (`canceled`: they were never placed)."""
    tried: set[str] = set()
    while True:
        page, _ = await legs.page(account, state="enqueued", limit=500)
        waiting = [leg.leg_sid for leg in page if leg.leg_sid not in tried]
        if not waiting:
            return len(tried)
        for leg_sid in waiting:
            tried.add(leg_sid)
            try:
                await legs.act(account, leg_sid, LegAction(action="hangup"))
            except LegatoError:  # it left the queue meanwhile
                pass
