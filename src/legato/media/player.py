"""Prompts: queued PCM sources that yield 20 ms frames, looping as asked; the built-in tones."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from functools import cache

from legato.media.g711 import FRAME_BYTES, SAMPLE_RATE

BEEP_HZ = 1000
BEEP_SECONDS = 0.5  # a recording's beep (Twilio's Record playBeep)
CONFERENCE_NOTES = (660, 880)  # a conference's entry tone rises through these; its exit tone falls
NOTE_SECONDS = 0.15
CONFERENCE_TONES = ("enter", "exit")


def sine(hz: int, seconds: float, amplitude: int) -> bytes:
    """`seconds` of a sine at `hz` (16-bit PCM at 8 kHz; `amplitude` of 32767 is full scale)."""
    count = int(SAMPLE_RATE * seconds)
    samples = (int(amplitude * math.sin(2 * math.pi * hz * i / SAMPLE_RATE)) for i in range(count))
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


@cache
def beep_tone() -> bytes:
    """The recording beep: BEEP_SECONDS of a BEEP_HZ sine (about -10 dBFS)."""
    return sine(BEEP_HZ, BEEP_SECONDS, 10_000)


@cache
def conference_tone(kind: str) -> bytes:
    """A conference's notification tone (Twilio's <Conference beep>): two soft notes (about -16 dBFS), rising
    for `enter`, falling for `exit`."""
    if kind not in CONFERENCE_TONES:
        raise ValueError(f"tone must be one of {', '.join(CONFERENCE_TONES)}")
    notes = CONFERENCE_NOTES if kind == "enter" else CONFERENCE_NOTES[::-1]
    return b"".join(sine(hz, NOTE_SECONDS, 5_000) for hz in notes)


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
