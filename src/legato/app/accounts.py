"""Account use-cases: create, list, update, authenticate."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, fields
from typing import Any

from legato.domain.account import Account
from legato.domain.clock import Clock
from legato.domain.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from legato.domain.ids import new_id
from legato.domain.numbers import DEFAULT_REGION, check_region, parse_address
from legato.events.endpoints import EndpointPolicy
from legato.events.sinks.registry import check_endpoint
from legato.media.amd_params import AmdParams
from legato.store.repositories import AccountRepository
from legato.store.secrets import SecretBox, hash_token, token_matches

_SID = re.compile(r"^[A-Za-z0-9_\-]{3,64}$")
_AUTH_CACHE_SECONDS = 5.0
_AMD_NAMES = frozenset(f.name for f in fields(AmdParams))


@dataclass(frozen=True, slots=True)
class Credentials:
    """What `accounts create` prints once: the token and secret are never shown again."""

    account: Account
    api_token: str
    webhook_secret: str

    def as_dict(self) -> dict[str, Any]:
        return {"account_sid": self.account.account_sid, "name": self.account.name,
                "api_key": self.account.api_key, "api_token": self.api_token,
                "webhook_secret": self.webhook_secret, "cps": self.account.cps,
                "default_region": self.account.default_region, "exophones": list(self.account.exophones),
                "caller_ids": list(self.account.caller_ids)}


def account_from_row(row: dict[str, Any]) -> Account:
    return Account(account_sid=row["account_sid"], name=row["name"], api_key=row["api_key"],
                   created_at=row["created_at"], cps=row["cps"], max_concurrent=row["max_concurrent"],
                   inbound_endpoint=row["inbound_endpoint"], exophones=tuple(row["exophones"] or ()),
                   amd_params=dict((row["settings"] or {}).get("amd_params") or {}),
                   default_region=row.get("default_region") or DEFAULT_REGION,
                   caller_ids=tuple(row.get("caller_ids") or ()))


class AccountService:
    """Accounts and their credentials."""

    def __init__(self, repo: AccountRepository, box: SecretBox, clock: Clock, *,
                 endpoints: EndpointPolicy | None = None) -> None:
        self.repo = repo
        self.endpoints = endpoints or EndpointPolicy(allow_loopback=True)
        self.box = box
        self.clock = clock
        self._auth_cache: dict[tuple[str, str], tuple[float, Account]] = {}
        self._auth_lookups: dict[tuple[str, str], asyncio.Future[Account]] = {}

    async def create(self, *, sid: str | None = None, name: str | None = None, cps: int | None = None,
                     max_concurrent: int | None = None, inbound_endpoint: str | None = None,
                     exophones: list[str] | None = None, caller_ids: list[str] | None = None,
                     default_region: str | None = None) -> Credentials:
        """Create an account with fresh credentials."""
        account_sid = sid or "AC" + new_id()
        if not _SID.match(account_sid):
            raise ValidationFailed("sid must be 3-64 letters, digits, '_' or '-'", field="sid")
        if await self.repo.get(account_sid) is not None:
            raise Conflict(f"account {account_sid} already exists", field="sid")
        _check_limits(cps, max_concurrent)
        await self._check_inbound_endpoint(inbound_endpoint)
        region = check_region(default_region or DEFAULT_REGION)
        api_key = "key_" + secrets.token_hex(12)
        api_token = "tok_" + secrets.token_urlsafe(32)
        webhook_secret = "whsec_" + secrets.token_urlsafe(32).replace("-", "A").replace("_", "B")
        now = self.clock.now()
        row = {"account_sid": account_sid, "name": name or account_sid, "api_key": api_key,
               "token_hash": hash_token(api_token), "webhook_secret_enc": self.box.seal(webhook_secret),
               "cps": cps, "max_concurrent": max_concurrent, "inbound_endpoint": inbound_endpoint,
               "exophones": _canonical_numbers(exophones or [], region, "exophone"),
               "caller_ids": _canonical_numbers(caller_ids or [], region, "caller_id"),
               "default_region": region, "settings": {},
               "created_at": now, "updated_at": now}
        await self.repo.insert(row)
        return Credentials(account_from_row(row), api_token, webhook_secret)

    async def update(self, account_sid: str, **changes: Any) -> Account:
        """Change name, limits, region, inbound endpoint, exophones or caller ids (None leaves a field as it is)."""
        row = await self.repo.get(account_sid)
        if row is None:
            raise NotFound(f"no account {account_sid}", field="account_sid")
        values = {k: v for k, v in changes.items() if v is not None}
        if "default_region" in values:
            values["default_region"] = check_region(values["default_region"])
        region = values.get("default_region") or row.get("default_region") or DEFAULT_REGION
        if "amd_params" in values:
            settings = row.get("settings") or {}
            amd = {**(settings.get("amd_params") or {}), **check_amd_params(values.pop("amd_params"))}
            values["settings"] = {**settings, "amd_params": amd}
        _check_limits(values.get("cps"), values.get("max_concurrent"))
        await self._check_inbound_endpoint(values.get("inbound_endpoint"))
        for name, field in (("exophones", "exophone"), ("caller_ids", "caller_id")):
            if name in values:
                values[name] = _canonical_numbers(values[name], region, field)
        values["updated_at"] = self.clock.now()
        await self.repo.update(account_sid, values)
        self._auth_cache.clear()
        return await self.get(account_sid)

    async def _check_inbound_endpoint(self, endpoint: str | None) -> None:
        """Inbound legs' events go here: the same syntax and SSRF rules as a leg's endpoint."""
        if endpoint is None:
            return
        check_endpoint(endpoint, "inbound_endpoint")
        await self.endpoints.check(endpoint, "inbound_endpoint")

    async def get(self, account_sid: str) -> Account:
        row = await self.repo.get(account_sid)
        if row is None:
            raise NotFound(f"no account {account_sid}", field="account_sid")
        return account_from_row(row)

    async def all(self) -> list[Account]:
        return [account_from_row(r) for r in await self.repo.all()]

    async def webhook_secret(self, account_sid: str) -> str:
        """The account's signing secret (decrypted for signing; never logged)."""
        row = await self.repo.get(account_sid)
        if row is None:
            raise NotFound(f"no account {account_sid}", field="account_sid")
        return self.box.open(row["webhook_secret_enc"])

    async def authenticate(self, api_key: str, api_token: str) -> Account:
        """The account whose credentials these are, or Unauthorized."""
        key = (api_key, hash_token(api_token))
        cached = self._auth_cache.get(key)
        now = time.monotonic()
        if cached and now - cached[0] < _AUTH_CACHE_SECONDS:
            return cached[1]
        lookup = self._auth_lookups.get(key)
        if lookup is None:  # one query for all the requests with these credentials that arrive meanwhile
            lookup = self._auth_lookups[key] = asyncio.ensure_future(self._lookup(api_key, api_token, key))
            lookup.add_done_callback(lambda _: self._auth_lookups.pop(key, None))
        return await asyncio.shield(lookup)

    async def _lookup(self, api_key: str, api_token: str, key: tuple[str, str]) -> Account:
        row = await self.repo.by_api_key(api_key)
        if row is None or not token_matches(api_token, row["token_hash"]):
            raise Unauthorized("invalid api_key or api_token")
        account = account_from_row(row)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[key] = (time.monotonic(), account)
        return account


def check_amd_params(values: dict[str, Any], field: str = "amd_params") -> dict[str, Any]:
    """AMD overrides, validated: known names only, values AmdParams accepts."""
    if not values:
        return {}
    for name in values:
        if name not in _AMD_NAMES:
            raise ValidationFailed(f"{field}.{name} is not an AMD parameter (known: {', '.join(sorted(_AMD_NAMES))})",
                                   field=f"{field}.{name}")
    try:
        AmdParams.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"{field}: {exc}", field=field) from None
    return dict(values)


def _check_limits(cps: int | None, max_concurrent: int | None) -> None:
    if cps is not None and not 1 <= cps <= 10_000:
        raise ValidationFailed("cps must be between 1 and 10000 calls per second", field="cps")
    if max_concurrent is not None and not 1 <= max_concurrent <= 1_000_000:
        raise ValidationFailed("max_concurrent must be between 1 and 1000000", field="max_concurrent")


def _canonical_numbers(values: list[str], region: str, field: str) -> list[str]:
    """Numbers (read in the account's region) in E.164 and SIP URIs as given: sorted, without repeats."""
    return sorted({parse_address(v, field, region).canonical for v in values})
