"""Which node a new leg goes to: next to its reference leg, on its account's home node when the account
has limits (so cps, max_concurrent and the queue order hold cluster-wide on one throttle), else on a
node serving the requested data centre, by load."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

LOAD_MARGIN = 2  # live legs by which another node must be less loaded before a create is sent there


@dataclass(frozen=True, slots=True)
class NodeView:
    """A live cluster node as its last lease renewal published it."""

    name: str
    data_centres: dict[str, list[str]]
    live_legs: int
    inbound_legs: dict[str, int] = field(default_factory=dict)  # its live inbound legs per account

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> NodeView:
        inbound = json.loads(row.get("inbound_legs") or "{}")
        return cls(row["name"], json.loads(row["data_centres"] or "{}"), row["live_legs"] or 0, inbound)

    def serves(self, dc: str | None, nso: str | None) -> bool:
        if dc is not None and dc not in self.data_centres:
            return False
        return nso is None or any(nso in nsos for nsos in self.data_centres.values())


def inbound_elsewhere(me: str, nodes: list[NodeView]) -> dict[str, int]:
    """The live inbound legs per account that the nodes other than `me` hold (they count toward max_concurrent
    on the account's home node)."""
    counts: dict[str, int] = {}
    for node in nodes:
        if node.name != me:
            for account_sid, count in node.inbound_legs.items():
                counts[account_sid] = counts.get(account_sid, 0) + int(count)
    return counts


def home_node(account_sid: str, nodes: list[NodeView]) -> NodeView:
    """The account's home among `nodes`: rendezvous hashing, so a node joining or leaving moves few accounts."""
    return max(nodes, key=lambda n: hashlib.blake2b(f"{account_sid}/{n.name}".encode(), digest_size=8).digest())


def choose(body: dict[str, Any], account_sid: str, limited: bool, me: NodeView, nodes: list[NodeView]) -> str | None:
    """The node that should create this leg (None: this one; also when no live node serves what is asked,
    so this node answers with the validation error)."""
    dc, nso = body.get("requested_dc_code"), body.get("requested_nso_code")
    candidates = [n for n in nodes if n.serves(dc, nso)]
    if not candidates:
        return None
    if limited:
        return home_node(account_sid, candidates).name
    least = min(n.live_legs for n in candidates)
    if any(n.name == me.name for n in candidates) and me.live_legs <= least + LOAD_MARGIN:
        return None
    return random.choice([n for n in candidates if n.live_legs <= least + LOAD_MARGIN]).name
