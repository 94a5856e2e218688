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
    default_region: str = "IN"  # ISO 3166 alpha-2: national numbers of this account are read in this region
    caller_ids: tuple[str, ...] = field(default_factory=tuple)  # extra caller ids the operator allowed (canonical)
    disabled: bool = False  # the operator disabled it: its API calls are refused (403), it places no new legs
    inbound_flow_url: str | None = None  # the call flow inbound calls run (instead of leg_incoming + answer)
    exophone_flows: dict[str, str] = field(default_factory=dict)  # canonical exophone -> its own flow URL

    def flow_for(self, exophone: str) -> str | None:
        """The flow URL a call to this canonical exophone runs: the number's own, else the account's."""
        return self.exophone_flows.get(exophone) or self.inbound_flow_url

    def may_present(self, caller_id: str) -> bool:
        """Whether outbound legs may present this canonical caller id (an exophone or an allowed one)."""
        return caller_id in self.exophones or caller_id in self.caller_ids
