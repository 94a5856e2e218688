"""Bridge use-cases: join live legs, read a bridge and its events, stop it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.dialects.bridges import bridge_resource
from legato.domain.account import Account
from legato.domain.bridge import BRIDGE_EVENT, MAX_LEGS, Bridge
from legato.domain.clock import Clock
from legato.domain.errors import Conflict, NotFound, ValidationFailed
from legato.domain.events import LegEvent
from legato.domain.ids import new_event_sid
from legato.engine.bridges import Bridges
from legato.events.endpoints import EndpointPolicy
from legato.events.sinks.registry import check_event_endpoint
from legato.store.repositories import BridgeRepository, LegRepository
from legato.store.rows import bridge_from_row, bridge_to_row
from legato.store.writer import Writer


class CreateBridge(BaseModel):
    """Body of `POST /v2/accounts/{sid}/bridges`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    leg_sids: list[str] = Field(min_length=2, max_length=MAX_LEGS, description="connected legs to join")
    bridge_event_endpoint: str | None = Field(None, min_length=1, max_length=2048,
                                              description="where bridge events go: http(s):// or grpc://")
    end_on_exit: bool = Field(True, description="when one leg ends, hang up the others")


class BridgeAction(BaseModel):
    """Body of `POST .../bridges/{bridge_sid}/actions`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["stop"]


class BridgeService:
    """Everything an application can do with bridges."""

    def __init__(self, bridges: BridgeRepository, legs: LegRepository, engine: Bridges, clock: Clock,
                 writer: Writer, endpoints: EndpointPolicy | None = None) -> None:
        self.bridges = bridges
        self.endpoints = endpoints or EndpointPolicy(allow_loopback=True)
        self.legs = legs
        self.engine = engine
        self.clock = clock
        self.writer = writer

    async def create(self, account: Account, request: CreateBridge) -> Bridge:
        """Join the legs; 404 for legs the account does not have, 409 when they cannot be joined."""
        if len(set(request.leg_sids)) != len(request.leg_sids):
            raise ValidationFailed("leg_sids must name different legs", field="leg_sids")
        if request.bridge_event_endpoint is not None:
            await check_event_endpoint(self.endpoints, request.bridge_event_endpoint, "bridge_event_endpoint")
        for sid in request.leg_sids:
            live = self.engine.switchboard.get(sid)
            if live is None or live.account_sid != account.account_sid:
                leg = await self.legs.get(account.account_sid, sid)
                if leg is None:
                    raise NotFound(f"no such leg {sid}", field="leg_sids")
                if leg.is_terminal:
                    raise Conflict(f"leg {sid} is terminal ({leg.terminal_status}); only connected legs can be "
                                   "bridged", field="leg_sids")
        bridge, durable = self.engine.create(account.account_sid, request.leg_sids,
                                             endpoint=request.bridge_event_endpoint,
                                             end_on_exit=request.end_on_exit)
        await durable
        return bridge

    async def get(self, account: Account, bridge_sid: str) -> Bridge:
        live = self.engine.active.get(bridge_sid)
        if live is not None and live.account_sid == account.account_sid:
            return live
        row = await self.bridges.get(account.account_sid, bridge_sid)
        if row is None:
            raise NotFound("no such bridge", field="bridge_sid")
        return bridge_from_row(row)

    async def recent(self, account: Account, limit: int = 20) -> list[Bridge]:
        """The account's newest bridges, live ones as the engine has them now."""
        found = [bridge_from_row(row) for row in await self.bridges.recent(account.account_sid, limit)]
        return [self.engine.active.get(b.bridge_sid, b) for b in found]

    async def act(self, account: Account, bridge_sid: str, action: BridgeAction) -> Bridge:
        bridge = await self.get(account, bridge_sid)
        if bridge_sid not in self.engine.active:
            raise Conflict(f"bridge is terminated ({bridge.end_reason}); nothing to {action.action}",
                           field="action")
        await self.engine.stop(bridge_sid)
        return bridge

    async def events(self, account: Account, bridge_sid: str) -> list[dict[str, Any]]:
        await self.get(account, bridge_sid)
        return await self.bridges.events(bridge_sid)

    async def reconcile(self, owner: str, cause: str = "platform_restart") -> int:
        """End bridges left active by node `owner`, which is gone (their legs were ended the same way)."""
        return await self.end_rows(await self.bridges.active(owner), cause)

    async def end_rows(self, rows: list[dict[str, Any]], cause: str) -> int:
        """End these active bridges (rows a gone node left) with `cause`, one bridge_terminated each."""
        futures = []
        for row in rows:
            bridge = bridge_from_row(row)
            bridge.end(self.clock.now(), cause)
            bridge.event_sequence += 1
            event = LegEvent(new_event_sid(), bridge.bridge_sid, bridge.account_sid, bridge.event_sequence,
                             "bridge_terminated", BRIDGE_EVENT, self.clock.now(), bridge_resource(bridge))
            futures.append(self.writer.submit_bridge(bridge_to_row(bridge), [event],
                                                     endpoint=bridge.bridge_event_endpoint))
        for future in futures:
            await future
        return len(futures)

