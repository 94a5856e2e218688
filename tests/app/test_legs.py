"""LegService in process, on the sandbox and a manual clock: create, act, and the live leg wins over the store."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from legato.app.legs import LegAction
from legato.domain.clock import ManualClock
from legato.domain.errors import Conflict
from legato.domain.leg import EXOPHONE_CANONICAL_KEY, HangupSource, LegState, TerminalStatus
from legato.store.writer import Writer
from tests.app.support import ACME, create, service, stamps
from tests.engine.inprocess import engine, written


async def test_a_leg_lives_to_its_time_limit_with_the_clocks_times(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        legs = service(e)
        leg_sid = await create(legs, "09163810010", time_limit=60)
        e.clock.advance(1.0)  # the far end rings
        await e.commits.wait(leg_sid, "leg_ringing")
        e.clock.advance(2.0)  # and answers
        await e.commits.wait(leg_sid, "leg_answered")
        e.clock.advance(59.0)
        assert (await legs.get(ACME, leg_sid)).state is LegState.CONNECTED  # a second short of the limit
        e.clock.advance(1.0)
        await e.commits.wait(leg_sid, "leg_terminated")
        e.clock.advance(3600.0)  # nothing more happens to an ended leg
        await written(e)
        assert stamps(e, leg_sid) == [("leg_connecting", 0.0), ("leg_ringing", 1.0), ("leg_answered", 3.0),
                                      ("leg_terminated", 63.0)]
        ended = await legs.get(ACME, leg_sid)
        assert (ended.terminal_status, ended.hangup_cause, ended.hangup_source) == (
            TerminalStatus.COMPLETED, "time_limit", HangupSource.PLATFORM)
        start = ManualClock().now()
        assert (ended.start_time, ended.answer_time, ended.end_time) == (
            start, start + timedelta(seconds=3), start + timedelta(seconds=63))
        assert ended.duration() == 60
        with pytest.raises(Conflict):
            await legs.act(ACME, leg_sid, LegAction(action="hangup"))


async def test_a_hangup_before_the_time_limit_is_the_only_end(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        legs = service(e)
        leg_sid = await create(legs, "09163810010", time_limit=60)
        e.clock.advance(3.0)
        await e.commits.wait(leg_sid, "leg_answered")
        e.clock.advance(10.0)
        ended = await legs.act(ACME, leg_sid, LegAction(action="hangup"))
        e.clock.advance(120.0)  # the time limit would have fired here
        await written(e)
        assert [name for name, _ in stamps(e, leg_sid)].count("leg_terminated") == 1
        assert stamps(e, leg_sid)[-1] == ("leg_terminated", 13.0)
        assert (ended.hangup_cause, ended.duration()) == ("hangup_requested", 10)


async def test_create_then_hangup(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        legs = service(e)
        leg_sid = await create(legs, "09163810010")
        stored = await legs.get(ACME, leg_sid)
        assert stored.state is LegState.CONNECTING and stored.extra == {
            "event_format": "telefonie", EXOPHONE_CANONICAL_KEY: "+918030752400"}
        with pytest.raises(Conflict):
            await legs.act(ACME, leg_sid, LegAction(action="say", text="too early"))
        ended = await legs.act(ACME, leg_sid, LegAction(action="hangup"))
        assert ended.state is LegState.TERMINAL
        assert e.commits.names(leg_sid) == ["leg_connecting", "leg_terminated"]


async def test_actions_see_the_live_leg_before_its_write_commits(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    async with engine(tmp_path) as e:
        legs = service(e)
        leg_sid = await create(legs, "09163810010")
        gate = asyncio.Event()
        commit = Writer._commit

        async def held(self: Writer, items: list) -> None:
            await gate.wait()
            await commit(self, items)

        monkeypatch.setattr(Writer, "_commit", held)
        try:
            e.clock.advance(3.0)  # answered in memory; the store still says connecting
            _, result = await legs.act_with_result(ACME, leg_sid, LegAction(action="say", text="hello"))
            assert result["play_id"]
        finally:
            gate.set()
        await e.commits.wait(leg_sid, "leg_answered")
