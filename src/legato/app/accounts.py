"""Account use-cases: create, list, update, authenticate."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from legato.app.flow_fields import check_flow_url
from legato.domain.account import Account
from legato.domain.clock import Clock
from legato.domain.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from legato.domain.events import iso
from legato.domain.ids import new_id
from legato.domain.numbers import DEFAULT_REGION, check_region, parse_address
from legato.events.endpoints import EndpointPolicy
from legato.events.sinks.registry import check_event_endpoint
from legato.media.amd_params import AmdParams
from legato.store.repositories import AccountRepository
from legato.store.rows import account_changes, account_from_row, new_account_row
from legato.store.secrets import SecretBox, hash_token, token_matches

_SID = re.compile(r"^[A-Za-z0-9_\-]{3,64}$")
_AUTH_CACHE_SECONDS = 5.0
CLEARABLE = frozenset({"cps", "max_concurrent", "inbound_endpoint"})  # fields `update` can set to none (unlimited)
_AMD_NAMES = frozenset(f.name for f in fields(AmdParams))


@dataclass(frozen=True, slots=True)
class Credentials:
    """What `accounts create` prints once: the token and secret are never shown again."""

    account: Account
    api_token: str
    webhook_secret: str

    def as_dict(self) -> dict[str, Any]:
        summary = account_summary(self.account)
        return {"account_sid": self.account.account_sid, "name": self.account.name, "api_key": self.account.api_key,
                "api_token": self.api_token, "webhook_secret": self.webhook_secret, **summary}


def account_summary(account: Account) -> dict[str, Any]:
    """An account as the operator sees it (no secrets): `accounts list`, the admin API."""
    return {"account_sid": account.account_sid, "name": account.name, "api_key": account.api_key,
            "disabled": account.disabled, "cps": account.cps, "max_concurrent": account.max_concurrent,
            "inbound_endpoint": account.inbound_endpoint, "default_region": account.default_region,
            "exophones": list(account.exophones), "caller_ids": list(account.caller_ids),
            "amd_params": account.amd_params, "inbound_flow_url": account.inbound_flow_url,
            "exophone_flows": account.exophone_flows, "created_at": iso(account.created_at)}


def new_api_token() -> str:
    return "tok_" + secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32).replace("-", "A").replace("_", "B")


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
                     default_region: str | None = None, inbound_flow_url: str | None = None) -> Credentials:
        """Create an account with fresh credentials."""
        account_sid = sid or "AC" + new_id()
        if not _SID.match(account_sid):
            raise ValidationFailed("account_sid must be 3-64 letters, digits, '_' or '-'", field="account_sid")
        if await self.repo.get(account_sid) is not None:
            raise Conflict(f"account {account_sid} already exists", field="account_sid")
        _check_limits(cps, max_concurrent)
        await self._check_inbound_endpoint(inbound_endpoint)
        region = check_region(default_region or DEFAULT_REGION)
        api_token = new_api_token()
        webhook_secret = new_webhook_secret()
        flow_url = await check_flow_url(inbound_flow_url, "inbound_flow_url", self.endpoints) if inbound_flow_url \
            else None
        account = Account(account_sid=account_sid, name=name or account_sid, api_key="key_" + secrets.token_hex(12),
                          created_at=self.clock.now(), cps=cps, max_concurrent=max_concurrent,
                          inbound_endpoint=inbound_endpoint, default_region=region,
                          exophones=_canonical_numbers(exophones or [], region, "exophone"),
                          caller_ids=_canonical_numbers(caller_ids or [], region, "caller_id"),
                          inbound_flow_url=flow_url)
        await self.repo.insert(new_account_row(account, hash_token(api_token), self.box.seal(webhook_secret)))
        return Credentials(account, api_token, webhook_secret)

    async def update(self, account_sid: str, *, clear: Iterable[str] = (), **changes: Any) -> Account:
        """Change name, limits, region, inbound endpoint, call flows, AMD overrides, exophones or caller ids (None
        leaves a field as it is; the fields named in `clear`, some of CLEARABLE, become none: no limit, no inbound
        endpoint)."""
        account = await self.get(account_sid)
        for name in clear:
            if name not in CLEARABLE:
                raise ValidationFailed(f"{name} cannot be set to none (only {', '.join(sorted(CLEARABLE))})",
                                       field=name)
        values = {k: v for k, v in changes.items() if v is not None}
        if "default_region" in values:
            values["default_region"] = check_region(values["default_region"])
        region = values.get("default_region") or account.default_region
        if "amd_params" in values:
            values["amd_params"] = {**account.amd_params, **check_amd_params(values["amd_params"])}
        await self._flow_settings(values, account, region)
        _check_limits(values.get("cps"), values.get("max_concurrent"))
        await self._check_inbound_endpoint(values.get("inbound_endpoint"))
        for name, field in (("exophones", "exophone"), ("caller_ids", "caller_id")):
            if name in values:
                values[name] = _canonical_numbers(values[name], region, field)
        values.update({name: None for name in clear if name not in values})
        return await self._save(account, replace(account, **values))

    async def _row(self, account_sid: str) -> dict[str, Any]:
        row = await self.repo.get(account_sid)
        if row is None:
            raise NotFound(f"no account {account_sid}", field="account_sid")
        return row

    async def _save(self, old: Account, new: Account) -> Account:
        """Store what changed from `old` to `new`."""
        return await self._write(old.account_sid, account_changes(old, new))

    async def _write(self, account_sid: str, values: dict[str, Any]) -> Account:
        values["updated_at"] = self.clock.now()
        await self.repo.update(account_sid, values)
        self._auth_cache.clear()
        return await self.get(account_sid)

    async def rotate_token(self, account_sid: str) -> tuple[Account, str]:
        """The account with a new API token (the token shown once); the old one stops working at once here,
        within 5 s on other nodes."""
        await self._row(account_sid)
        token = new_api_token()
        return await self._write(account_sid, {"token_hash": hash_token(token)}), token

    async def rotate_webhook_secret(self, account_sid: str) -> str:
        """A new webhook secret (shown once): every delivery attempt from now on, retries and redeliveries of
        older events included, is signed with it only."""
        await self._row(account_sid)
        secret = new_webhook_secret()
        await self._write(account_sid, {"webhook_secret_enc": self.box.seal(secret)})
        return secret

    async def set_disabled(self, account_sid: str, disabled: bool) -> Account:
        """Disable (API calls 403, no new legs, inbound calls refused) or enable an account again."""
        row = await self._row(account_sid)
        if disabled == (row.get("disabled_at") is not None):
            return account_from_row(row)
        return await self._write(account_sid, {"disabled_at": self.clock.now() if disabled else None})

    async def add_exophone(self, account_sid: str, number: str) -> Account:
        """Add one exophone (any spelling, read in the account's region; already there: no change)."""
        account = await self.get(account_sid)
        (canonical,) = _canonical_numbers([number], account.default_region, "number")
        return await self._save(account, replace(account, exophones=tuple(sorted({*account.exophones, canonical}))))

    async def remove_exophone(self, account_sid: str, number: str) -> Account:
        """Remove one exophone (any spelling); NotFound when the account does not have it."""
        account = await self.get(account_sid)
        (canonical,) = _canonical_numbers([number], account.default_region, "number")
        if canonical not in account.exophones:
            raise NotFound(f"account {account_sid} has no exophone {canonical}", field="number")
        return await self._save(account, replace(account, exophones=tuple(e for e in account.exophones
                                                                          if e != canonical)))

    async def _flow_settings(self, values: dict[str, Any], account: Account, region: str) -> None:
        """Check `inbound_flow_url` ('' clears it) and merge `exophone_flows` (number -> URL, '' clears one) into
        the account's, in `values`, as flow URLs."""
        url = values.get("inbound_flow_url")
        if url is not None:
            values["inbound_flow_url"] = await check_flow_url(url, "inbound_flow_url", self.endpoints) if url else None
        flows = values.get("exophone_flows")
        if flows is None:
            return
        merged = dict(account.exophone_flows)
        owned = values.get("exophones") or account.exophones
        for number, flow_url in flows.items():
            key = parse_address(number, "exophone_flow", region).canonical
            if flow_url and key not in owned:
                raise ValidationFailed(f"{number} is not one of the account's exophones", field="exophone_flow")
            if flow_url:
                merged[key] = await check_flow_url(flow_url, "exophone_flow", self.endpoints)
            else:
                merged.pop(key, None)
        values["exophone_flows"] = merged

    async def _check_inbound_endpoint(self, endpoint: str | None) -> None:
        """Inbound legs' events go here: the same syntax and SSRF rules as a leg's endpoint."""
        if endpoint is None:
            return
        await check_event_endpoint(self.endpoints, endpoint, "inbound_endpoint")

    async def get(self, account_sid: str) -> Account:
        return account_from_row(await self._row(account_sid))

    async def all(self) -> list[Account]:
        return [account_from_row(r) for r in await self.repo.all()]

    async def with_token_hash(self, account_sid: str) -> tuple[Account, str] | None:
        """The account and its API token's hash (console sessions are bound to it); None for an unknown account."""
        row = await self.repo.get(account_sid)
        return None if row is None else (account_from_row(row), row["token_hash"])

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
            return _enabled(cached[1])
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
        return _enabled(account)


def _enabled(account: Account) -> Account:
    if account.disabled:
        raise Forbidden(f"account {account.account_sid} is disabled by the operator", field="account_sid")
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


def _canonical_numbers(values: Iterable[str], region: str, field: str) -> tuple[str, ...]:
    """Numbers (read in the account's region) in E.164 and SIP URIs as given: sorted, without repeats."""
    return tuple(sorted({parse_address(v, field, region).canonical for v in values}))
