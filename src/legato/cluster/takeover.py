"""Taking over dead nodes: when a node's lease has expired while it still holds live legs, active bridges or
conferences, or undelivered events, exactly one surviving node takes it over (store/nodes.py `take_over`: a conditional
UPDATE bumping the dead node's epoch, which also fences it should it come back). The survivor delivers the
dead node's undelivered events (per leg in order, with their event_sid), then ends its live legs `failed`
with hangup_cause `node_lost` (one leg_terminated each, sequence continued), its bridges and its conferences."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from legato.cluster.lease import Lease
from legato.store.database import database_unavailable
from legato.store.nodes import Inheritance, NodeRepository

log = logging.getLogger(__name__)
CAUSE = "node_lost"

Rows = list[dict[str, Any]]


class Takeover:
    """Watches the other nodes' leases every `every` seconds and inherits what a dead one held."""

    def __init__(
        self,
        nodes: NodeRepository,
        lease: Lease,
        *,
        deliver: Callable[[Rows], None],
        end_legs: Callable[[Rows, str], Awaitable[int]],
        end_bridges: Callable[[Rows, str], Awaitable[int]],
        end_conferences: Callable[[Rows, str], Awaitable[int]],
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.nodes = nodes
        self.lease = lease
        self.deliver = deliver
        self.end_legs = end_legs
        self.end_bridges = end_bridges
        self.end_conferences = end_conferences
        self.wall = wall
        self.taken: list[str] = []  # names taken over by this node, oldest first
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> int:
        """Take over every node found dead now; returns how many this node took."""
        if self.lease.lost:
            return 0
        count = 0
        for name, epoch in await self.nodes.expired_with_work(self.wall(), self.lease.name):
            got = await self.nodes.take_over(name, epoch, self.wall(), self.lease.name, self.lease.epoch)
            if got is not None:
                await self._inherit(name, got)
                count += 1
        return count

    async def _inherit(self, name: str, got: Inheritance) -> None:
        self.taken.append(name)
        self.deliver(got.events)  # first: the events the dead node left come before the ones ending its legs
        legs = await self.end_legs(got.legs, CAUSE)
        bridges = await self.end_bridges(got.bridges, CAUSE)
        conferences = await self.end_conferences(got.conferences, CAUSE)
        log.warning(
            "took over node %s: legs=%d bridges=%d conferences=%d undelivered_events=%d cause=%s",
            name,
            legs,
            bridges,
            conferences,
            len(got.events),
            CAUSE,
        )

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="legato-takeover")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _watch(self) -> None:
        while not self.lease.lost:
            await asyncio.sleep(self.lease.renew_every)
            try:
                await self.run_once()
            except Exception as exc:
                log.error("takeover check failed error=%s", exc, exc_info=not database_unavailable(exc))
