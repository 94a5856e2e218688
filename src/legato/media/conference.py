"""The asyncio adapter around one conference's Mixer: a 20 ms timer, the members' channels, the recording.

Members' channels hand what they receive to the mixer (`ChannelCore.mix_sink`); each tick takes one
frame per member, sends each member its mix and keeps the room's mix when recording. A tick that comes
late runs the steps it missed (up to MAX_CATCH_UP), so a stalled loop delays audio instead of dropping it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.media.channel import Channel
from legato.media.g711 import SAMPLE_RATE, SAMPLE_WIDTH
from legato.media.mixer import Mixer, MixMember
from legato.media.player import conference_tone
from legato.media.recorder import write_recording
from legato.media.rtp_sender import PTIME

MAX_CATCH_UP = 5  # steps one late tick may run (the mixer queues 100 ms per member)


class ConferenceMix:
    """One conference in the media engine."""

    def __init__(
        self,
        conference_id: str,
        loop: asyncio.AbstractEventLoop,
        channel_of: Callable[[str], Channel | None],
        record_path: Path | None,
    ) -> None:
        self.conference_id = conference_id
        self.loop = loop
        self.channel_of = channel_of
        self.record_path = record_path
        self.mixer = Mixer()
        self.recorded = bytearray()
        self.steps = 0  # 20 ms steps mixed (the benchmark reads it)
        self.late_steps = 0  # steps run late, to catch up
        self._next = self.started = loop.time()
        self._timer: asyncio.TimerHandle | None = None

    def set_members(self, members: list[MixMember]) -> None:
        """Mix these members from now on; legs no longer in it stop feeding the mixer."""
        wanted = {m.leg_id for m in members}
        for leg_id in set(self.mixer.members) - wanted:
            self._attach(leg_id, None)
        for m in members:
            self._attach(m.leg_id, functools.partial(self.mixer.push, m.leg_id))
        self.mixer.set_members(members)
        if self._timer is None:
            self.started = self.loop.time()
            self._next = self.started + PTIME
            self._timer = self.loop.call_at(self._next, self._tick)

    def beep(self, kind: str) -> None:
        """Play the conference's `enter` or `exit` tone into the room (ValueError for another kind)."""
        self.mixer.tone(conference_tone(kind))

    def _attach(self, leg_id: str, sink: Callable[[bytes], None] | None) -> None:
        channel = self.channel_of(leg_id)
        if channel is not None:
            channel.core.mix_sink = sink

    def _tick(self) -> None:
        now = self.loop.time()
        steps = 0
        while self._next <= now and steps < MAX_CATCH_UP:
            self.step()
            steps += 1
            self._next += PTIME
        self.late_steps += max(0, steps - 1)
        if self._next <= now:  # too far behind: start the clock again from now
            self._next = now + PTIME
        self._timer = self.loop.call_at(self._next, self._tick)

    def step(self) -> None:
        """Mix 20 ms and send each member its part."""
        heard, room = self.mixer.mix()
        self.steps += 1
        for leg_id, pcm in heard.items():
            channel = self.channel_of(leg_id)
            if pcm is not None and channel is not None:
                channel.send_mix(pcm)
        if self.record_path is not None:
            self.recorded += room

    async def end(self) -> dict[str, Any]:
        """Stop mixing (members' legs stay up); the steps mixed, and the recording (file, path, duration_ms)
        once written, if there is one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for leg_id in list(self.mixer.members):
            self._attach(leg_id, None)
        self.mixer.set_members([])
        seconds = self.loop.time() - self.started
        result: dict[str, Any] = {"steps": self.steps, "late_steps": self.late_steps, "seconds": round(seconds, 3)}
        if self.record_path is None:
            return result
        pcm = bytes(self.recorded)
        await self.loop.run_in_executor(None, write_recording, self.record_path, pcm)
        duration_ms = len(pcm) // SAMPLE_WIDTH * 1000 // SAMPLE_RATE
        return {**result, "file": self.record_path.name, "path": str(self.record_path), "duration_ms": duration_ms}
