"""A restart in process: the next run of a node ends what its last run left live (legs, bridges) once each, in
sequence, and the last run, were it still writing, is fenced."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.app.bridges import CreateBridge
from legato.domain import machine as m
from legato.domain.bridge import BridgeState
from legato.domain.clock import ManualClock
from legato.domain.leg import LegState, TerminalStatus
from legato.store.nodes import NodeRepository
from legato.store.writer import Fenced
from tests.app.support import ACME, create, world

NODE = "n1"


async def test_the_next_run_ends_what_the_last_left_live_once(tmp_path: Path) -> None:
    now = ManualClock().now()
    async with world(tmp_path) as last:
        assert await NodeRepository(last.e.db).insert(NODE, 1, now, now, "host", 1)
        last.e.writer.owner = (NODE, 1)
        a, b = await last.connected("09163810010"), await last.connected("09163810011")
        ringing = await create(last.legs, "09163810002")
        bridge = await last.bridges.create(ACME, CreateBridge(leg_sids=[a, b]))
        # from here the last run is as good as dead: it does nothing until its one try at the end
        async with world(tmp_path) as next_run:
            assert await NodeRepository(next_run.e.db).take(NODE, 1)  # what `legato serve` does at start
            next_run.e.writer.owner = (NODE, 2)
            stale = await next_run.e.legs.live(NODE)
            assert sorted(leg.leg_sid for leg in stale) == sorted([a, b, ringing])
            assert await next_run.e.switchboard.reconcile(stale) == 3
            assert await next_run.bridges.reconcile(NODE) == 1
            assert await next_run.e.legs.live(NODE) == []  # a second start finds nothing more to end
            assert await next_run.bridges.reconcile(NODE) == 0

            for leg_sid in (a, b, ringing):
                leg = await next_run.legs.get(ACME, leg_sid)
                assert (leg.state, leg.terminal_status, leg.hangup_cause) == (
                    LegState.TERMINAL, TerminalStatus.FAILED, "platform_restart")
                events = await next_run.e.legs.events(leg_sid)
                assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
                assert [e["event_name"] for e in events].count("leg_terminated") == 1
            ended = await next_run.bridges.get(ACME, bridge.bridge_sid)
            assert (ended.state, ended.end_reason) == (BridgeState.TERMINATED, "platform_restart")
            assert (await next_run.bridges.events(ACME, bridge.bridge_sid))[-1]["event_name"] == "bridge_terminated"

            with pytest.raises(Fenced):  # the last run, had it lived on, writes nothing more
                await last.e.switchboard.command(a, m.Hangup())
