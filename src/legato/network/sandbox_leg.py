"""One sandbox leg's simulated far end, as media actions see it: the interface their `simulate` uses.

Each action's module in app/actions/ says what the far end does for it; this holds what those share: the
clock and delays, the leg's signals, what its caller keys, its prompt queue, its running gather and
recording, its streams. When the leg ends (`end`) every timer is cancelled and a running recording completes,
reason `hangup`.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato.domain import machine as m
from legato.domain.clock import Clock, TimerHandle
from legato.network.sandbox_audio import SilenceWriter, silence_frames, write_silence
from legato.network.sandbox_streams import SandboxStreams

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class SandboxDelays:
    """Seconds (in clock time) the simulated network takes."""

    ring_after: float = 1.0
    answer_after: float = 2.0
    far_hangup_after: float = 5.0
    amd_after: float = 1.5
    play_seconds: float = 2.0
    key_interval: float = 0.3
    speech_word_s: float = 0.4  # the simulated caller speaks one word in this many seconds


@dataclass(slots=True)
class SandboxRecording:
    """A running simulated recording."""

    recording_id: str
    started: float  # clock seconds: the WAV of silence is as long as now minus this
    direction: str
    folder: str | None  # under the recordings folder
    transcript: str | None = None  # transcribed as this when it completes ("" when the far end is silent)


@dataclass(slots=True)
class SandboxLeg:
    """What the simulated far end of one leg is doing with audio."""

    leg_sid: str
    keys: str  # what the caller keys into a gather
    clock: Clock
    delays: SandboxDelays
    streams: SandboxStreams
    recordings_dir: Path
    signals: Callable[[m.Input], None]
    files: SilenceWriter
    prompts: list[tuple[str, TimerHandle | None]] = field(default_factory=list)  # (play_id, end timer)
    prompts_end: float = 0.0  # clock seconds when the queued prompts finish
    recording: SandboxRecording | None = None
    gather: list[TimerHandle] = field(default_factory=list)
    timers: list[TimerHandle] = field(default_factory=list)  # `later` signals still to come

    def now(self) -> float:
        """Clock time in seconds."""
        return self.clock.now().timestamp()

    def new_id(self, prefix: str) -> str:
        """A new play or recording id (`play-7`)."""
        return f"{prefix}-{next(_ids)}"

    def emit(self, name: str, data: dict[str, Any]) -> None:
        """A media event on the leg now."""
        self.signals(m.MediaEvent(name, data))

    def later(self, seconds: float, name: str, data: dict[str, Any]) -> None:
        """A media event on the leg after `seconds`, unless the leg ends first."""
        self.timers.append(self.clock.call_later(seconds, lambda: self.emit(name, data)))

    def queue_prompt(self, seconds: float, loop: int) -> str:
        """Queue a prompt `seconds` long, played `loop` times (0: until stopped) after those before it;
        `play_completed` reason finished when it ends. Returns its play_id."""
        play_id = self.new_id("play")
        now = self.now()
        timer: TimerHandle | None = None
        if loop > 0:
            self.prompts_end = max(now, self.prompts_end) + seconds * loop

            def done() -> None:
                self.prompts[:] = [p for p in self.prompts if p[0] != play_id]
                self.emit("play_completed", {"play_id": play_id, "reason": "finished"})

            timer = self.clock.call_later(self.prompts_end - now, done)
        self.prompts.append((play_id, timer))
        return play_id

    def stop_prompts(self, reason: str) -> None:
        """Every queued prompt ends now: `play_completed` with `reason` for each."""
        prompts, self.prompts = self.prompts, []
        self.prompts_end = 0.0
        for play_id, timer in prompts:
            if timer is not None:
                timer.cancel()
            self.emit("play_completed", {"play_id": play_id, "reason": reason})

    def finish_recording(self, reason: str, *, at_once: bool = False) -> dict[str, Any]:
        """Complete the running recording: a WAV of silence as long as it ran (written off the loop), then, once
        the file is complete, `recording_completed` (and `transcription_completed` when it was to be
        transcribed); returns recording_id and duration_ms at once. With `at_once` (the leg is ending) the file is
        written here, so its events come before the leg's terminal event."""
        recording = self.recording
        assert recording is not None
        self.recording = None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{self.leg_sid}-{stamp}-{secrets.token_hex(3)}.wav"
        target = self.recordings_dir / recording.folder if recording.folder else self.recordings_dir
        seconds = self.now() - recording.started
        rec_id, duration_ms = recording.recording_id, silence_frames(seconds) // 8

        def written() -> None:
            self.emit("recording_completed", {"recording_id": rec_id, "file": name, "duration_ms": duration_ms,
                                              "direction": recording.direction, "reason": reason})
            text = recording.transcript
            if text is not None:
                self.emit("transcription_completed", {"recording_id": rec_id, "file": name, "status": "completed",
                                                      "text": text, "confidence": 1.0 if text else 0.0})

        if at_once:
            write_silence(target, name, seconds)
            written()
        else:
            self.files.write(target, name, seconds, written)
        return {"recording_id": rec_id, "duration_ms": duration_ms}

    def end(self) -> None:
        """The leg ended: nothing more happens on it; a running recording completes (reason hangup)."""
        for _, timer in self.prompts:
            if timer is not None:
                timer.cancel()
        for timer in (*self.gather, *self.timers):
            timer.cancel()
        if self.recording is not None:
            self.finish_recording("hangup", at_once=True)
