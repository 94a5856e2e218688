"""The switchboard in process: the sandbox's far ends on a manual clock, every change durable in order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from legato.app.actions.play import Say
from legato.domain import machine as m
from legato.domain.leg import LegState, TerminalStatus
from tests.engine.inprocess import dial_until, engine, outbound


async def test_a_leg_rings_answers_and_hangs_up_on_the_clock(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        leg = outbound("+919163810010")
        accepted = await e.switchboard.launch(leg, m.Start())
        assert accepted.state is LegState.CONNECTING
        e.clock.advance(1.0)
        await e.commits.wait(leg.leg_sid, "leg_ringing")
        e.clock.advance(2.0)
        await e.commits.wait(leg.leg_sid, "leg_answered")
        ended = await e.switchboard.command(leg.leg_sid, m.Hangup())
        assert ended.terminal_status is TerminalStatus.COMPLETED
        assert e.commits.names(leg.leg_sid) == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
        stored = await e.legs.get("acme", leg.leg_sid)
        assert stored is not None and stored.state is LegState.TERMINAL and stored.event_sequence == 4
        assert e.switchboard.get(leg.leg_sid) is None


async def test_ring_timeout_cancels_an_unanswered_leg(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        leg = outbound("+919163810002", ring_timeout=5)
        await e.switchboard.launch(leg, m.Start())
        e.clock.advance(1.0)
        e.clock.advance(5.0)
        await e.commits.wait(leg.leg_sid, "leg_terminated")
        stored = await e.legs.get("acme", leg.leg_sid)
        assert stored is not None and stored.terminal_status is TerminalStatus.NO_ANSWER
        assert stored.hangup_cause == "ring_timeout"


async def test_busy_far_end_ends_the_leg_with_its_cause(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        leg = await dial_until(e, "+919163810001", 1.0, "leg_terminated")
        stored = await e.legs.get("acme", leg.leg_sid)
        assert stored is not None and (stored.terminal_status, stored.hangup_cause_code) == (TerminalStatus.BUSY, 17)


async def test_a_media_action_reports_its_end_as_an_action_event(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        leg = await dial_until(e, "+919163810010", 3.0, "leg_answered")
        result = await e.switchboard.media(leg.leg_sid, Say(text="hello there"))
        e.clock.advance(4.0)  # 2 s per started 10 characters
        await e.commits.wait(leg.leg_sid, "play_completed")
        (row,) = [r for r in e.commits.rows if r["event_name"] == "play_completed"]
        assert row["payload"]["event_data"]["data"]["play_id"] == result["play_id"]


async def test_a_signal_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        leg = await dial_until(e, "+919163810010", 1.0, "leg_ringing")
        written: list[str] = []
        writes: list[asyncio.Future[None]] = []
        submit = e.switchboard.writer.submit

        def counted(snapshot: Any, *args: Any, **kwargs: Any) -> Any:
            written.append(snapshot.state.value)
            writes.append(submit(snapshot, *args, **kwargs))
            return writes[-1]

        e.switchboard.writer.submit = counted  # type: ignore[method-assign]
        e.switchboard.signal(leg.leg_sid, m.Ringing())  # a second 180 Ringing: the leg is ringing already
        assert written == []
        await e.switchboard.command(leg.leg_sid, m.Hangup())
        e.switchboard.signal(leg.leg_sid, m.MediaStats({"packets_received": 7}))  # no event, but a change
        assert written == ["terminal", "terminal"]
        await asyncio.gather(*writes)
        stored = await e.legs.get("acme", leg.leg_sid)
        assert stored is not None and stored.extra[m.RTCP_KEY] == {"packets_received": 7}
