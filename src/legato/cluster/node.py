"""This process as a node of a cluster: its bus, its view of the live nodes, and where a command goes."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp

from legato.cluster import placement
from legato.cluster.bus import Bus, command_subject
from legato.cluster.placement import NodeView
from legato.cluster.routing import serve_routed
from legato.store.nodes import NodeRepository

log = logging.getLogger(__name__)


class ClusterNode:
    """One node of a cluster on a shared database and a NATS bus."""

    def __init__(
        self,
        name: str,
        bus_url: str,
        nodes: NodeRepository,
        *,
        data_centres: dict[str, list[str]],
        route_timeout: float,
        view_ttl: float,
        live_legs: Callable[[], int],
        accepting: Callable[[], bool],
        limited: Callable[[str], Awaitable[bool]],
        inbound_legs: Callable[[], dict[str, int]] = dict,
        elsewhere: Callable[[dict[str, int]], None] = lambda counts: None,
    ) -> None:
        self.name = name
        self.bus = Bus(bus_url, name)
        self.nodes = nodes
        self.data_centres = data_centres
        self._data_centres_json = json.dumps(data_centres)  # published with every lease renewal; never changes
        self.route_timeout = route_timeout
        self.view_ttl = view_ttl
        self.live_legs = live_legs
        self.accepting = accepting
        self.limited = limited
        self.inbound_legs = inbound_legs  # this node's live inbound legs per account, published with its lease
        self.elsewhere = elsewhere  # told the other nodes' (the throttle counts them toward max_concurrent)
        self.cluster_id = ""  # read from the database at start
        self._view: tuple[float, list[NodeView]] = (0.0, [])
        self._watch: asyncio.Task[None] | None = None

    def status(self) -> dict[str, Any]:
        """What this node publishes with each lease renewal (cluster/lease.py); a node that is draining, or off
        the bus (no peer can send it a create), says it takes no new legs (`bus` false leaves it out of placement,
        while commands still reach its legs)."""
        return {"data_centres": self._data_centres_json, "live_legs": self.live_legs(),
                "bus": self.accepting() and self.bus.connected,
                "inbound_legs": json.dumps(self.inbound_legs(), separators=(",", ":"))}

    async def connect(self) -> None:
        """Reach the bus (before this node takes its lease and legs): BusUnreachable when it cannot."""
        await self.bus.connect()

    async def start(self, app: ASGIApp) -> None:
        """Answer the commands peers send here through `app` (this node's API), once connected."""
        self.cluster_id = await self.nodes.cluster_id()
        await self.bus.serve(self.subject(self.name), lambda payload: serve_routed(app, payload))
        self._watch = asyncio.create_task(self._watch_inbound(), name="legato-inbound-elsewhere")

    def subject(self, node: str) -> str:
        """Where node `node` of this cluster takes commands."""
        return command_subject(self.cluster_id, node)

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self.bus.close()

    async def _watch_inbound(self) -> None:
        """Every `view_ttl` seconds, tell the throttle the inbound legs the other live nodes hold."""
        failing = False
        while True:
            try:
                self.elsewhere(placement.inbound_elsewhere(self.name, await self.live_nodes(fresh=True)))
                failing = False
            except Exception as exc:  # the database is away: keep the last counts, try again
                if not failing:
                    log.warning("could not read the other nodes' inbound legs error=%s", exc)
                failing = True
            await asyncio.sleep(self.view_ttl)

    async def problem(self) -> str | None:
        """Readiness: a node off the bus cannot take the commands routed to it."""
        return None if self.bus.connected else f"not connected to the bus at {self.bus.url}"

    async def live_nodes(self, fresh: bool = False) -> list[NodeView]:
        """The live nodes, as read at most `view_ttl` seconds ago (`fresh`: now)."""
        at, view = self._view
        if fresh or time.monotonic() - at > self.view_ttl:
            view = [NodeView.from_row(r) for r in await self.nodes.live(datetime.now(UTC))]
            self._view = (time.monotonic(), view)
        return view

    async def target(
        self, account_sid: str | None, kind: str, create: str | None, sid: str | None, body: dict[str, Any]
    ) -> str | None:
        """The node a POST should run on (None: here). See cluster/routing.py."""
        if create == "bridges":
            sids = body.get("leg_sids")
            first = sids[0] if isinstance(sids, list) and sids else None
            return await self._owner("legs", account_sid, first) if isinstance(first, str) else None
        reference = body.get("reference_leg_sid") if create in ("legs", "conferences") else None
        if isinstance(reference, str):  # made on that leg's node: a leg beside it, a conference it will join
            return await self._owner("legs", account_sid, reference)
        if create == "legs" and account_sid is not None:
            me, accepting = NodeView(self.name, self.data_centres, self.live_legs()), self.accepting()
            nodes = [me if n.name == self.name else n for n in await self.live_nodes(fresh=not accepting)
                     if n.name != self.name or accepting]  # draining: new legs go to the others at once
            return placement.choose(body, account_sid, await self.limited(account_sid), me, nodes or [me])
        return await self._owner(kind, account_sid, sid) if sid is not None else None

    async def _owner(self, kind: str, account_sid: str | None, sid: str) -> str | None:
        """The owner of a live leg, active bridge or conference (None: ended or unknown, so any node answers from
        the store)."""
        found = await self.nodes.owner_of(kind, account_sid, sid)
        return found[0] if found is not None and found[1] else None
