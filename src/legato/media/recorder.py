"""Recording a leg: what it sends us (in), what we send it (out), or both mixed, placed on a wall clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from legato.media.g711 import SAMPLE_RATE, mix
from legato.media.wavfile import write_pcm

MAX_DRIFT_SAMPLES = 480  # audio arriving later than this behind the clock starts after a silence gap


@dataclass(slots=True)
class Recorder:
    """Collects PCM per direction; `finish` writes the WAV and returns its length in ms."""

    recording_id: str
    path: Path
    direction: str  # in | out | both
    started: float
    tracks: dict[str, bytearray] = field(default_factory=lambda: {"in": bytearray(), "out": bytearray()})

    def wants(self, direction: str) -> bool:
        return self.direction in (direction, "both")

    def add(self, direction: str, pcm: bytes, now: float) -> None:
        """Append PCM heard at time `now` (loop seconds) to a track, padding silence after gaps."""
        if not self.wants(direction) or now < self.started:  # (a beep plays before it starts)
            return
        track = self.tracks[direction]
        due = int((now - self.started) * SAMPLE_RATE) - len(pcm) // 2
        behind = due - len(track) // 2
        if behind > MAX_DRIFT_SAMPLES:
            track.extend(b"\x00\x00" * behind)
        track.extend(pcm)

    def finish(self, now: float) -> int:
        """Write the file; returns its duration in ms (blocking: off the media loop, see `render`)."""
        pcm = self.render(now)
        write_recording(self.path, pcm)
        return len(pcm) // 2 * 1000 // SAMPLE_RATE

    def render(self, now: float) -> bytes:
        """The recording's PCM up to `now` (mixed, padded to its wall-clock length); no file I/O."""
        total = max(0, int((now - self.started) * SAMPLE_RATE))
        if self.direction == "both":
            pcm = mix(bytes(self.tracks["in"]), bytes(self.tracks["out"]))
        else:
            pcm = bytes(self.tracks[self.direction])
        if len(pcm) // 2 < total:
            pcm += b"\x00\x00" * (total - len(pcm) // 2)
        return pcm


def write_recording(path: Path, pcm: bytes) -> None:
    """Write a finished recording as WAV, creating its folder (blocking: run it in a thread)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_pcm(path, pcm)
