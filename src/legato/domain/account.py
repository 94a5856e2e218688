"""Accounts: who owns legs, with their limits. Credentials live hashed in the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the rest of Legato sees it (no secrets)."""

    account_sid: str
    name: str
    api_key: str
    created_at: datetime
    cps: int | None = None
    max_concurrent: int | None = None
    inbound_endpoint: str | None = None
    exophones: tuple[str, ...] = field(default_factory=tuple)
    amd_params: dict[str, Any] = field(default_factory=dict)  # the account's AMD overrides (see AmdParams)
