"""Engine to endpoint in process: the Dispatcher delivers a leg's committed events in order to an in-memory sink."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from legato.domain import machine as m
from legato.events.dispatcher import Dispatcher
from legato.events.outbox import Outbox
from legato.events.signature import SignedEvent
from legato.events.sinks import Result
from tests.engine.inprocess import WAIT, dial_until, engine


class MemorySink:
    """A sink that keeps what it is given."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, dict[str, Any], SignedEvent]] = []
        self.changed = asyncio.Event()

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        self.delivered.append((endpoint, payload, event))
        self.changed.set()
        return Result("delivered", 200, "OK")

    async def aclose(self) -> None:
        pass

    async def wait_for(self, count: int) -> None:
        async def until() -> None:
            while len(self.delivered) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), WAIT)


async def secret(account_sid: str) -> str:
    return "whsec_" + "A" * 43


async def test_events_reach_the_endpoint_in_order_signed(tmp_path: Path) -> None:
    async with engine(tmp_path) as e:
        sink = MemorySink()
        dispatcher = Dispatcher(Outbox(e.db), {"mem": sink}, secret, e.clock)
        e.writer.add_listener(dispatcher.on_commit)
        await dispatcher.start()
        try:
            leg = await dial_until(e, "+919163810010", 3.0, "leg_answered", endpoint="mem://app/events")
            await e.switchboard.command(leg.leg_sid, m.Hangup())
            await sink.wait_for(4)
        finally:
            await dispatcher.stop()
        names = [payload["event_name"] for _, payload, _ in sink.delivered]
        assert names == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
        assert [payload["sequence"] for _, payload, _ in sink.delivered] == [1, 2, 3, 4]
        assert {endpoint for endpoint, _, _ in sink.delivered} == {"mem://app/events"}
        assert all(signed.headers["webhook-signature"].startswith("v1,") for _, _, signed in sink.delivered)
