"""LegService in process, on the sandbox and a manual clock: create, act, and the live leg wins over the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from legato.app.legs import CreateLeg, LegAction, LegService
from legato.domain.account import Account
from legato.domain.errors import Conflict
from legato.domain.leg import EXOPHONE_CANONICAL_KEY, LegState
from legato.engine.placement import Placement
from legato.store.writer import Writer
from tests.engine.inprocess import Engine, engine

ACME = Account(account_sid="acme", name="Acme", api_key="key_x", created_at=datetime(2026, 1, 1, tzinfo=UTC),
               exophones=("+918030752400",))


def service(e: Engine) -> LegService:
    return LegService(e.legs, e.switchboard, e.clock, placement=Placement({"dc1": ["nso1"]}))


async def create(legs: LegService, number: str) -> str:
    leg = await legs.create(ACME, CreateLeg(contact_uri=number, exophone="08030752400",
                                            leg_event_endpoint="http://127.0.0.1:9/events", event_format="telefonie"))
    return leg.leg_sid


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
