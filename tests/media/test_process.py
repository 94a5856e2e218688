"""The media engine as a child process: started and stopped by ManagedMedia, gone when its parent dies."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from legato.media.process import ManagedMedia
from tests.waiting import wait_for

pytestmark = pytest.mark.media
SRC = str(Path(__file__).resolve().parents[2] / "src")


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_start_allocates_and_close_stops_the_process(tmp_path: Path) -> None:
    media = ManagedMedia(rtp_ports=(21400, 21409), rtp_host="127.0.0.1", recordings_dir=tmp_path / "rec",
                         cache_dir=tmp_path / "cache")
    await media.start(lambda note: None)
    pid = media.pid
    assert pid is not None and running(pid)
    allocation = await media.allocate("LG1")
    assert 21400 <= allocation.port <= 21408 and allocation.port % 2 == 0
    await media.close()
    assert media.pid is None and not running(pid)


def test_engine_exits_when_its_parent_dies_without_stopping_it(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, os, sys
        sys.path.insert(0, {SRC!r})
        from legato.media.process import ManagedMedia
        async def main():
            media = ManagedMedia(rtp_ports=(21410, 21419), rtp_host="127.0.0.1")
            await media.start(lambda note: None)
            print(media.pid, flush=True)
            os._exit(9)  # no cleanup, as after SIGKILL
        asyncio.run(main())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    pid = int(out.stdout.strip())
    wait_for(lambda: not running(pid), seconds=10, what=f"the end of process {pid}", every=0.1)
