"""A create whose write the database does not take in time: 503, never dialled, and ended once when it is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from legato.domain import machine as m
from legato.domain.errors import Unavailable
from legato.domain.ids import new_leg_sid
from legato.domain.leg import Direction, Leg
from legato.engine.clock import ScaledClock
from legato.engine.switchboard import Switchboard
from legato.network.base import DialRequest
from legato.network.sandbox import SandboxNetwork
from legato.store.database import create_engine, migrate
from legato.store.repositories import LegRepository
from legato.store.writer import Writer
from tests.legato_server import POSTGRES_URL, new_postgres_database
from tests.outage import TcpProxy
from tests.waiting import until

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")]


async def test_create_not_durable_in_time_is_refused_not_dialled_and_recorded_ended() -> None:
    proxy = TcpProxy(5432).restore()
    engine = create_engine(proxy.url_for(new_postgres_database()))
    await migrate(engine)
    writer = Writer(engine)
    await writer.start()
    clock = ScaledClock(1.0)
    network = SandboxNetwork(clock)
    dialled: list[str] = []

    def dial(request: DialRequest) -> None:
        dialled.append(request.leg_sid)

    network.dial = dial  # type: ignore[method-assign]
    board = Switchboard(clock, network, writer, write_wait=0.2)
    await board.start()
    leg = Leg(leg_sid=new_leg_sid(), account_sid="acct", call_sid="call", direction=Direction.OUTBOUND,
              contact_uri="09163816621", contact_e164="+919163816621", exophone="08030752400",
              network_type="pstn", leg_event_endpoint="http://127.0.0.1:9/events", date_created=datetime.now(UTC))
    try:
        proxy.cut()  # the database goes away after the create was let in, before its write commits
        with pytest.raises(Unavailable) as refused:
            await board.launch(leg, m.Start())
        assert refused.value.retry_after
        assert dialled == [] and board.get(leg.leg_sid) is None
        with pytest.raises(Unavailable):
            board.require_store()  # and no new work is taken while it is away

        proxy.restore()
        # the writer retries the PostgreSQL server (another process) on its own schedule
        await until(lambda: writer.available, seconds=10, what="the writer's recovery")
        stored = await LegRepository(engine).get("acct", leg.leg_sid)
        assert stored is not None and stored.is_terminal
        assert (stored.terminal_status.value, stored.hangup_cause) == ("failed", "database_unavailable")
        names = [e["event_name"] for e in await LegRepository(engine).events(leg.leg_sid)]
        assert names == ["leg_connecting", "leg_terminated"]
        assert dialled == []
    finally:
        proxy.restore()
        await board.stop()
        await writer.stop(5)
        await engine.dispose()
        proxy.close()
