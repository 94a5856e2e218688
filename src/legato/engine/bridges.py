"""Bridges in call control: the rules for joining live legs, and ending a bridge when a leg ends.

Each leg's part (leg_joined_bridge, leg_left_bridge in its own event sequence, its call_sid) goes
through the leg's state machine via the switchboard; the bridge's own events (to the bridge
endpoint) are written by the same group-commit writer, into the same outbox, as events of subject
"bridge" with their own sequence.
"""

from __future__ import annotations

import asyncio
import logging

from legato.dialects.bridges import bridge_resource
from legato.domain import machine as m
from legato.domain.bridge import BRIDGE_EVENT, Bridge
from legato.domain.clock import Clock
from legato.domain.errors import Conflict
from legato.domain.events import LegEvent
from legato.domain.ids import new_bridge_sid, new_event_sid
from legato.domain.leg import Leg, LegState
from legato.domain.transfer import TRANSFERRED
from legato.engine.switchboard import Switchboard
from legato.network.base import Bridging
from legato.store.rows import bridge_to_row

log = logging.getLogger(__name__)


class Bridges:
    """The active bridges of this process and which leg is in which."""

    def __init__(self, clock: Clock, switchboard: Switchboard) -> None:
        self.clock = clock
        self.switchboard = switchboard
        self.active: dict[str, Bridge] = {}
        self.by_leg: dict[str, str] = {}
        switchboard.holds.register(self)

    def holding(self, leg_sid: str) -> str | None:
        """What holds the leg, said for a 409 ("bridge X"), or None."""
        sid = self.by_leg.get(leg_sid)
        return None if sid is None else f"bridge {sid}"

    def let_go(self, leg_sid: str) -> asyncio.Future[list[None]] | None:
        """Stop the leg's bridge (an attended transfer bridges it elsewhere; its other legs stay up);
        None when it is in none."""
        sid = self.by_leg.get(leg_sid)
        return None if sid is None else self.stop(sid)

    def create(self, account_sid: str, leg_sids: list[str], *, endpoint: str | None,
               end_on_exit: bool) -> tuple[Bridge, asyncio.Future[list[None]]]:
        """Join live, connected, co-located legs that are in no other bridge; Conflict says why not.

        Returns the bridge and a future that resolves once everything is durable."""
        self.switchboard.require_store()
        legs: list[Leg] = []
        for sid in leg_sids:
            leg = self.switchboard.get(sid)
            if leg is None or leg.account_sid != account_sid:
                raise Conflict(f"leg {sid} is not live; only connected legs can be bridged", field="leg_sids")
            if leg.state is not LegState.CONNECTED:
                raise Conflict(f"leg {sid} is {leg.state}; only connected legs can be bridged", field="leg_sids")
            if sid in self.by_leg:
                raise Conflict(f"leg {sid} is already in bridge {self.by_leg[sid]}", field="leg_sids")
            self.switchboard.holds.require_free(sid, "leg_sids", besides=self)
            legs.append(leg)
        if len({leg.dc_code for leg in legs}) > 1:
            where = ", ".join(f"{leg.leg_sid} in dc {leg.dc_code}" for leg in legs)
            raise Conflict(f"legs are not co-located ({where}); create later legs with reference_leg_sid",
                           field="leg_sids")
        now = self.clock.now()
        bridge = Bridge(new_bridge_sid(), account_sid, legs[0].call_sid, legs[0].dc_code, list(leg_sids),
                        endpoint, end_on_exit, now)
        self.active[bridge.bridge_sid] = bridge
        for sid in leg_sids:
            self.by_leg[sid] = bridge.bridge_sid
        events = [self._event(bridge, "bridge_created")]
        events += [self._event(bridge, "leg_joined_bridge", leg_sid=sid) for sid in leg_sids]
        futures = [self.switchboard.writer.submit_bridge(bridge_to_row(bridge), events, new=True,
                                                         endpoint=endpoint)]
        futures += [self.switchboard.feed(sid, m.JoinBridge(bridge.bridge_sid, bridge.call_sid)) for sid in leg_sids]
        network = self.switchboard.network
        if isinstance(network, Bridging):
            self._safely(network.bridge, bridge.bridge_sid, list(leg_sids))
        return bridge, asyncio.gather(*futures)

    def stop(self, bridge_sid: str) -> asyncio.Future[list[None]]:
        """End the bridge on request: its legs leave it and stay up."""
        bridge = self.active.get(bridge_sid)
        if bridge is None:
            raise Conflict("bridge is already terminated", field="bridge_sid")
        self.switchboard.require_store()
        return self._end(bridge, "stopped", None)

    def leg_ended(self, leg: Leg) -> None:
        """Switchboard hook: a leg of a bridge ended, so the bridge ends (end_on_exit: the others hang up,
        unless the leg was transferred away: they stay up, free for the next call)."""
        bridge_sid = self.by_leg.get(leg.leg_sid)
        if bridge_sid is not None:
            self._end(self.active[bridge_sid], "leg_ended", leg.leg_sid, hang_up=leg.hangup_cause != TRANSFERRED)

    def _end(self, bridge: Bridge, reason: str, by_leg_sid: str | None, *, hang_up: bool = True
             ) -> asyncio.Future[list[None]]:
        self.active.pop(bridge.bridge_sid, None)
        for sid in bridge.leg_sids:
            self.by_leg.pop(sid, None)
        members = [sid for sid in bridge.leg_sids if sid in bridge.members]
        bridge.end(self.clock.now(), reason, by_leg_sid)
        leave = "bridge_stopped" if reason == "stopped" else "bridge_ended"
        events = [self._event(bridge, "leg_left_bridge", leg_sid=sid,
                              reason="leg_ended" if sid == by_leg_sid else leave) for sid in members]
        events.append(self._event(bridge, "bridge_terminated"))
        futures = [self.switchboard.writer.submit_bridge(bridge_to_row(bridge), events,
                                                         endpoint=bridge.bridge_event_endpoint)]
        network = self.switchboard.network
        if isinstance(network, Bridging):
            self._safely(network.unbridge, bridge.bridge_sid, members)
        hang_up = hang_up and bridge.end_on_exit and by_leg_sid is not None
        for sid in members:
            if sid == by_leg_sid:
                continue
            try:
                role = "initiator" if sid == bridge.leg_sids[0] else "target"
                futures.append(self.switchboard.feed(sid, m.LeaveBridge(bridge.bridge_sid, leave, role, by_leg_sid)))
                if hang_up:
                    futures.append(self.switchboard.feed(sid, m.Hangup(cause="bridge_ended")))
            except Conflict:
                pass  # the leg ended meanwhile
        return asyncio.gather(*futures)

    def _event(self, bridge: Bridge, name: str, *, leg_sid: str | None = None, reason: str | None = None
               ) -> LegEvent:
        bridge.event_sequence += 1
        data = bridge_resource(bridge)
        if leg_sid is not None:
            data["leg_sid"] = leg_sid
            leg = self.switchboard.get(leg_sid)
            if leg is not None:
                data["leg_state"] = leg.state.value
        if reason is not None:
            data["reason"] = reason
        return LegEvent(new_event_sid(), bridge.bridge_sid, bridge.account_sid, bridge.event_sequence, name,
                        BRIDGE_EVENT, self.clock.now(), data)

    @staticmethod
    def _safely(action: object, *args: object) -> None:
        try:
            action(*args)  # type: ignore[operator]
        except Exception:
            log.exception("network bridge command failed bridge_sid=%s", args[0] if args else None)
