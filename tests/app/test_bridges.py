"""BridgeService in process, on sandbox legs and a manual clock: a bridge ends once, with its events, when a leg
leaves it; end_on_exit decides whether the other legs go too."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.app.bridges import BridgeAction, CreateBridge
from legato.app.legs import LegAction
from legato.domain.account import Account
from legato.domain.bridge import BridgeState
from legato.domain.errors import Conflict, NotFound
from legato.domain.leg import LegState
from tests.app.support import ACME, create, world

GLOBEX = Account(account_sid="globex", name="Globex", api_key="key_g", created_at=ACME.created_at,
                 exophones=ACME.exophones)


async def test_a_leg_hanging_up_ends_the_bridge_and_hangs_up_the_other(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        a, b = await w.connected("09163810010"), await w.connected("09163810011")
        bridge = await w.bridges.create(ACME, CreateBridge(leg_sids=[a, b]))
        w.e.clock.advance(30.0)
        await w.legs.act(ACME, a, LegAction(action="hangup"))
        await w.e.commits.wait(b, "leg_terminated")

        ended = await w.bridges.get(ACME, bridge.bridge_sid)
        assert (ended.state, ended.end_reason, ended.ended_by_leg_sid) == (BridgeState.TERMINATED, "leg_ended", a)
        assert ended.end_time == w.e.clock.now()
        assert [e["event_name"] for e in await w.bridges.events(ACME, bridge.bridge_sid)] == [
            "bridge_created", "leg_joined_bridge", "leg_joined_bridge", "leg_left_bridge", "leg_left_bridge",
            "bridge_terminated"]
        other = await w.legs.get(ACME, b)
        assert (other.state, other.hangup_cause) == (LegState.TERMINAL, "bridge_ended")
        assert other.call_sid == (await w.legs.get(ACME, a)).call_sid  # bridged legs are one call
        for leg_sid in (a, b):
            names = await w.names(leg_sid)
            assert names.count("leg_terminated") == 1 and names[-1] == "leg_terminated"
            assert names.count("leg_joined_bridge") == names.count("leg_left_bridge") == 1


async def test_a_time_limit_ends_one_leg_and_without_end_on_exit_the_other_stays_up(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        a = await w.connected("09163810010", time_limit=60)
        b, c = await w.connected("09163810011"), await w.connected("09163810012")
        first = await w.bridges.create(ACME, CreateBridge(leg_sids=[a, b], end_on_exit=False))
        w.e.clock.advance(60.0)  # past a's limit: 60 s from its answer
        await w.e.commits.wait(a, "leg_terminated")
        assert (await w.legs.get(ACME, a)).hangup_cause == "time_limit"
        ended = await w.bridges.get(ACME, first.bridge_sid)
        assert (ended.state, ended.end_reason) == (BridgeState.TERMINATED, "leg_ended")
        assert (await w.legs.get(ACME, b)).state is LegState.CONNECTED
        second = await w.bridges.create(ACME, CreateBridge(leg_sids=[b, c]))  # b is free for the next bridge
        assert second.state is BridgeState.ACTIVE


async def test_stop_keeps_the_legs_up_and_a_bridge_ends_once(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        a, b = await w.connected("09163810010"), await w.connected("09163810011")
        bridge = await w.bridges.create(ACME, CreateBridge(leg_sids=[a, b]))
        with pytest.raises(Conflict):
            await w.bridges.create(ACME, CreateBridge(leg_sids=[a, b]))  # a leg is in one bridge at most
        await w.bridges.act(ACME, bridge.bridge_sid, BridgeAction(action="stop"))
        with pytest.raises(Conflict):
            await w.bridges.act(ACME, bridge.bridge_sid, BridgeAction(action="stop"))
        await w.legs.act(ACME, a, LegAction(action="hangup"))  # after the bridge: b is not affected
        assert (await w.legs.get(ACME, b)).state is LegState.CONNECTED
        stopped = await w.bridges.get(ACME, bridge.bridge_sid)
        assert (stopped.state, stopped.end_reason) == (BridgeState.TERMINATED, "stopped")
        assert [e["event_name"] for e in await w.bridges.events(ACME, bridge.bridge_sid)].count(
            "bridge_terminated") == 1


async def test_only_the_accounts_connected_legs_can_be_bridged(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        a = await w.connected("09163810010")
        ringing = await create(w.legs, "09163810002")  # rings, never answers
        w.e.clock.advance(1.0)
        await w.e.commits.wait(ringing, "leg_ringing")
        with pytest.raises(Conflict, match="ringing"):
            await w.bridges.create(ACME, CreateBridge(leg_sids=[a, ringing]))
        with pytest.raises(NotFound):
            await w.bridges.create(GLOBEX, CreateBridge(leg_sids=[a, ringing]))  # not globex's legs
        bridge = await w.bridges.create(ACME, CreateBridge(leg_sids=[a, await w.connected("09163810011")]))
        with pytest.raises(NotFound):
            await w.bridges.get(GLOBEX, bridge.bridge_sid)
        assert [b.bridge_sid for b in await w.bridges.recent(ACME)] == [bridge.bridge_sid]
        assert await w.bridges.recent(GLOBEX) == []
