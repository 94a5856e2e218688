"""Group-commit writer throughput with and without the per-transaction epoch check (node fencing),
and the time to write a backlog gathered while the database was away.

    PYTHONPATH=src python bench/writer_fence.py [--legs 3000] [--postgres postgresql+asyncpg://...]

Each leg is inserted with one event, then updated with a second (6,000 writes for 3,000 legs).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime

from legato.domain.events import LegEvent
from legato.domain.ids import new_event_sid, new_leg_sid
from legato.domain.leg import Direction, Leg, LegState
from legato.store.database import create_engine, migrate
from legato.store.nodes import NodeRepository
from legato.store.writer import Writer

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def _leg() -> Leg:
    return Leg(leg_sid=new_leg_sid(), account_sid="bench", call_sid="call", direction=Direction.OUTBOUND,
               contact_uri="09163816621", contact_e164="+919163816621", exophone="08030752400",
               network_type="pstn", leg_event_endpoint=None, date_created=NOW)


def _event(leg: Leg, name: str) -> LegEvent:
    leg.event_sequence += 1
    return LegEvent(new_event_sid(), leg.leg_sid, leg.account_sid, leg.event_sequence, name,
                    "leg_lifecycle_event", NOW, {})


async def run(url: str, count: int, fenced: bool) -> float:
    engine = create_engine(url)
    await migrate(engine)
    writer = Writer(engine)
    if fenced:
        name = "bench-" + uuid.uuid4().hex[:6]
        await NodeRepository(engine).insert(name, 1, NOW, NOW, None, None)
        writer.owner = (name, 1)
    await writer.start()
    legs = [_leg() for _ in range(count)]
    began = time.perf_counter()
    futures = [writer.submit(leg, [_event(leg, "leg_connecting")], new=True) for leg in legs]
    for leg in legs:
        leg.state = LegState.CONNECTING
        futures.append(writer.submit(leg, [_event(leg, "leg_ringing")]))
    await asyncio.gather(*futures)
    took = time.perf_counter() - began
    await writer.stop()
    await engine.dispose()
    return took


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--legs", type=int, default=3000)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db")]
        if args.postgres:
            urls.append(("postgresql", args.postgres))
        for label, url in urls:
            for fenced in (False, True):
                took = await run(url, args.legs, fenced)
                print(f"{label:10} fence={'on ' if fenced else 'off'} {2 * args.legs} writes in {took:.2f} s: "
                      f"{2 * args.legs / took:,.0f} writes/s")


if __name__ == "__main__":
    asyncio.run(main())
