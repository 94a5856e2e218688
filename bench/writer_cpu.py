"""CPU of the group-commit writer alone, per leg: insert with one event, then two updates with one event each.

    PYTHONPATH=src python bench/writer_cpu.py [--legs 3000] [--batch 50]

In this process (all its threads: the writer's SQLite thread counts), on a SQLite file in a temporary
directory, and on a fresh PostgreSQL database too when LEGATO_TEST_POSTGRES_URL is set (the PostgreSQL
server's own CPU is not counted). Legs are submitted `--batch` at a time, each batch awaited, so every
commit carries about that many rows per statement, as under load. Prints `cpu_us_per_leg` per database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.legato_server import POSTGRES_URL, drop_postgres_databases, new_postgres_database  # noqa: E402
from tests.store.support import event, leg  # noqa: E402

from legato.store.database import create_engine, migrate  # noqa: E402
from legato.store.writer import Writer  # noqa: E402


async def run(url: str, legs: int, batch: int) -> float:
    """CPU microseconds per leg written (three snapshots, three events)."""
    engine = create_engine(url)
    await migrate(engine)
    writer = Writer(engine)
    await writer.start()
    warm = [leg() for _ in range(batch)]
    await asyncio.gather(*(writer.submit(item, [event(item, "leg_connecting")], new=True, endpoint="http://x")
                           for item in warm))
    started = time.process_time()
    for first in range(0, legs, batch):
        items = [leg() for _ in range(min(batch, legs - first))]
        await asyncio.gather(*(writer.submit(item, [event(item, "leg_connecting")], new=True, endpoint="http://x")
                               for item in items))
        for name in ("leg_ringing", "leg_terminated"):
            await asyncio.gather(*(writer.submit(item, [event(item, name)]) for item in items))
    used = time.process_time() - started
    await writer.stop()
    await engine.dispose()
    return used / legs * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--legs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    results: dict[str, float] = {"load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as workdir:
        results["sqlite"] = round(asyncio.run(run(f"sqlite+aiosqlite:///{workdir}/w.db", args.legs, args.batch)), 1)
    if POSTGRES_URL:
        try:
            results["postgresql"] = round(asyncio.run(run(new_postgres_database(), args.legs, args.batch)), 1)
        finally:
            drop_postgres_databases()
    print(json.dumps({"cpu_us_per_leg": results}))


if __name__ == "__main__":
    main()
