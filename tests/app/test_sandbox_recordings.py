"""Sandbox recordings: the WAV of silence is written off the event loop, and the recording's events come once the
file is complete (an hour of silence is 58 MB: the loop keeps serving every other leg meanwhile)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import legato.network.sandbox_audio as sandbox_audio
from legato.app.leg_requests import LegAction
from tests.app.support import ACME, world
from tests.engine.inprocess import WAIT


async def test_the_file_is_written_off_the_loop_before_recording_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, started = threading.Event(), threading.Event()
    writers: list[threading.Thread] = []
    real = sandbox_audio.write_recording

    def held_write(path: Path, pcm: bytes) -> None:  # the disk is slow until the test lets it go
        writers.append(threading.current_thread())
        started.set()
        assert release.wait(WAIT), "the test never let the write go"
        real(path, pcm)

    monkeypatch.setattr(sandbox_audio, "write_recording", held_write)
    async with world(tmp_path) as w:
        leg_sid = await w.connected("+919163816621")
        await w.legs.act(ACME, leg_sid, LegAction(action="start_recording", beep=False))
        w.e.clock.advance(3600)
        _, result = await w.legs.act_with_result(ACME, leg_sid, LegAction(action="stop_recording"))
        assert result["duration_ms"] == 3_600_000  # answered at once: the file is still being written
        other = await w.connected("+919163816622")  # the loop serves other legs meanwhile
        assert await asyncio.to_thread(started.wait, WAIT)
        assert "recording_completed" not in await w.names(leg_sid)
        assert writers == [writers[0]] and writers[0] is not threading.current_thread()  # not the loop's thread
        release.set()
        await w.e.commits.wait(leg_sid, "recording_completed")
        [path] = (tmp_path / "recordings").rglob("*.wav")
        assert path.stat().st_size == 44 + 3600 * 8000 * 2  # complete when the event was made
        assert other in w.e.switchboard.controllers


async def test_a_recording_running_at_the_end_still_completes(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        leg_sid = await w.connected("+919163816621")
        await w.legs.act(ACME, leg_sid, LegAction(action="start_recording", beep=False))
        w.e.clock.advance(2)
        await w.legs.act(ACME, leg_sid, LegAction(action="hangup"))
        await w.e.commits.wait(leg_sid, "recording_completed")
        names = await w.names(leg_sid)
        assert names[-2:] == ["leg_terminated", "recording_completed"]
        assert len(list((tmp_path / "recordings").rglob("*.wav"))) == 1
