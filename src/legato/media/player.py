"""Prompts: queued PCM sources that yield 20 ms frames, looping as asked."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from functools import cache

from legato.media.g711 import FRAME_BYTES, SAMPLE_RATE

BEEP_HZ = 1000
BEEP_SECONDS = 0.5  # a recording's beep (Twilio's Record playBeep)


@cache
def beep_tone() -> bytes:
    """The recording beep: BEEP_SECONDS of a BEEP_HZ sine (16-bit PCM at 8 kHz, about -10 dBFS)."""
    count = int(SAMPLE_RATE * BEEP_SECONDS)
    samples = (int(10_000 * math.sin(2 * math.pi * BEEP_HZ * i / SAMPLE_RATE)) for i in range(count))
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


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
        frame = self.pcm[self.position : self.position + FRAME_BYTES]
        self.position += FRAME_BYTES
        if len(frame) < FRAME_BYTES:
            frame += b"\x00" * (FRAME_BYTES - len(frame))
        return frame


class PromptQueue:
    """Prompts waiting to be played, first one playing; ids come from the caller."""

    def __init__(self) -> None:
        self.prompts: deque[Prompt] = deque()

    def __bool__(self) -> bool:
        return bool(self.prompts)

    def add(self, prompt: Prompt) -> None:
        self.prompts.append(prompt)

    def next_frame(self) -> tuple[bytes | None, list[str]]:
        """The next 20 ms frame to send (None: all done) and the ids of prompts that finished first."""
        finished: list[str] = []
        while self.prompts:
            frame = self.prompts[0].next_frame()
            if frame is not None:
                return frame, finished
            finished.append(self.prompts.popleft().play_id)
        return None, finished

    def drop(self) -> list[str]:
        """Stop everything; returns the ids dropped, playing one first."""
        ids = [prompt.play_id for prompt in self.prompts]
        self.prompts.clear()
        return ids
