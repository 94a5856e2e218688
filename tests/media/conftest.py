"""Fixtures for media tests: a media engine process, a connected client, and RTP peers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from legato.media.base import MediaNotification
from legato.media.client import MediaClient

SRC = Path(__file__).resolve().parents[2] / "src"
TEST_TIME_LIMIT = 30  # seconds; every media test is bounded


@pytest.fixture(autouse=True)
def _time_limit() -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"media test exceeded {TEST_TIME_LIMIT}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIME_LIMIT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


class Notes:
    """Collects notifications and lets a test wait for one."""

    def __init__(self) -> None:
        self.items: list[MediaNotification] = []
        self._changed = asyncio.Event()

    def __call__(self, note: MediaNotification) -> None:
        self.items.append(note)
        self._changed.set()

    async def wait(self, name: str, leg_id: str | None = None, within: float = 10.0,
                   count: int = 1) -> list[MediaNotification]:
        async def _poll() -> list[MediaNotification]:
            while True:
                found = [n for n in self.items if n.name == name and leg_id in (None, n.leg_id)]
                if len(found) >= count:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(_poll(), within)


def start_server(tmp: Path, ports: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "legato.media.server", "--control", "127.0.0.1:0", "--rtp-ports", ports,
         "--rtp-host", "127.0.0.1", "--recordings-dir", str(tmp / "rec"), "--cache-dir", str(tmp / "cache")],
        stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("legato-media listening"), line
    return proc, int(line.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    tmp = tmp_path_factory.mktemp("media")
    proc, port = start_server(tmp, "21000-21199")
    yield port, tmp
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
async def engine(media_server: tuple[int, Path]) -> AsyncIterator[tuple[MediaClient, Notes]]:
    port, _ = media_server
    client = MediaClient("127.0.0.1", port)
    notes = Notes()
    await client.start(notes)
    yield client, notes
    await client.close()
