"""Benchmark: the API layer's CPU per `POST /legs`, in process, without the use-case.

    PYTHONPATH=src python bench/create_cpu.py [--creates 3000] [--rounds 5] [--profile FILE]

Starts the application in this process (sandbox, SQLite in a temporary folder), creates one leg for real, then
stands `LegService.create` in with a function returning that leg, and sends the app the same good create
straight through ASGI (as uvicorn would give it: the whole middleware stack, the fast path, the envelope, the
access line to /dev/null) `--creates` times per round. Prints the event loop thread's CPU per create, best of
the rounds: what the request costs around the use-case (parsing, credentials, validation, idempotency
check, envelope, access line, metrics), which `bench/legs_api.py` can only see inside a whole leg's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from legato.api.server import create_app
from legato.api.serving import settle_garbage_collector
from legato.config import Settings
from legato.logformat import configure_logging


async def measure(creates: int, rounds: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="create-cpu-"))
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp / 'legato.db'}", data_dir=tmp,
                              secret_key_file=tmp / "legato.key", time_scale=100))
    await app.state.start()
    try:
        made = await app.state.runtime.accounts.create(sid="ACbench", exophones=["08030752400"])
        authorization = b"Basic " + base64.b64encode(f"{made.account.api_key}:{made.api_token}".encode())
        body = json.dumps({"contact_uri": "09163810001", "exophone": "08030752400",
                           "leg_event_endpoint": "http://127.0.0.1:9/events"}).encode()
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"authorization", authorization), (b"content-length", str(len(body)).encode())]

        async def create() -> None:
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                     "scheme": "http", "path": "/v2/accounts/ACbench/legs", "raw_path": b"/v2/accounts/ACbench/legs",
                     "query_string": b"", "root_path": "", "headers": list(headers), "client": ("127.0.0.1", 50000),
                     "server": ("127.0.0.1", 8080), "state": {}}
            sent: list[Any] = []

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: Any) -> None:
                sent.append(message)

            await app(scope, receive, send)
            assert sent[0]["status"] == 202, sent

        legs = app.state.runtime.legs
        real, kept = legs.create, []

        async def keep(*args: Any, **kwargs: Any) -> Any:
            kept.append(await real(*args, **kwargs))
            return kept[-1]

        async def again(*args: Any, **kwargs: Any) -> Any:
            return kept[0]

        legs.create = keep
        await create()
        legs.create = again
        for _ in range(200):
            await create()
        settle_garbage_collector()
        await asyncio.sleep(1.0)
        best = float("inf")
        for _ in range(rounds):
            start = time.thread_time()
            for _ in range(creates):
                await create()
            best = min(best, (time.thread_time() - start) / creates)
            await asyncio.sleep(0.3)
        return best * 1e6
    finally:
        await app.state.flows.stop()
        await app.state.runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", help="write a cProfile of the whole run here")
    args = parser.parse_args()
    configure_logging("text", stream=open(os.devnull, "w"))  # the access lines, written
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    us = asyncio.run(measure(args.creates, args.rounds))
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    print(json.dumps({"loop_cpu_us_per_create": round(us, 1), "creates": args.creates, "rounds": args.rounds,
                      "load_average": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
