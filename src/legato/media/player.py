"""Prompts: queued PCM sources that yield 20 ms frames, looping as asked."""

from __future__ import annotations

from dataclasses import dataclass

from legato.media.g711 import FRAME_BYTES


@dataclass(slots=True)
class Prompt:
    """One queued prompt: PCM and how many times to play it (0 = until stopped)."""

    play_id: str
    pcm: bytes
    loop: int = 1
    position: int = 0
    played: int = 0

    def next_frame(self) -> bytes | None:
        """The next 20 ms of PCM (zero-padded at the end), or None when finished."""
        if not self.pcm:
            return None
        if self.position >= len(self.pcm):
            self.played += 1
            if self.loop and self.played >= self.loop:
                return None
            self.position = 0
        frame = self.pcm[self.position:self.position + FRAME_BYTES]
        self.position += FRAME_BYTES
        if len(frame) < FRAME_BYTES:
            frame += b"\x00" * (FRAME_BYTES - len(frame))
        return frame
