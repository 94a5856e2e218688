"""Conference mixing as a pure step function: 20 ms of each member's audio in, what each one hears out.

Rules: a participant is heard by every other member; a coach only by the leg it coaches; a listener by
nobody; a muted member is not heard; a held member is not heard and hears nothing (None). Each member
hears the sum of what it may hear minus its own voice, saturated to 16 bits (no wrap-around clicks).
The recording frame is what the room hears: the sum of the participants heard (coaches whisper, so they
are not in it). Audio is 16-bit linear PCM at 8 kHz; the channel decodes and encodes G.711 around this.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from legato.media.g711 import FRAME_BYTES, FRAME_SAMPLES

MAX_QUEUED = 5  # frames held per member (100 ms): more means its clock runs fast; the oldest go
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int32)
_LOW, _HIGH = -32768, 32767


@dataclass(frozen=True, slots=True)
class MixMember:
    """One member as the mixer sees it."""

    leg_id: str
    role: str = "participant"  # participant | coach | listener
    muted: bool = False
    hold: bool = False
    coach_of: str | None = None  # for a coach: the leg that hears it

    @property
    def speaks(self) -> bool:
        return self.role != "listener" and not self.muted and not self.hold


class Mixer:
    """The members of one conference and the audio each sent since the last step."""

    def __init__(self) -> None:
        self.members: dict[str, MixMember] = {}
        self._queues: dict[str, deque[bytes]] = {}
        self._partial: dict[str, bytes] = {}

    def set_members(self, members: list[MixMember]) -> None:
        """Replace the membership (audio queued for members that stay is kept)."""
        self.members = {m.leg_id: m for m in members}
        for gone in set(self._queues) - set(self.members):
            del self._queues[gone]
            self._partial.pop(gone, None)
        for leg_id in self.members:
            self._queues.setdefault(leg_id, deque(maxlen=MAX_QUEUED))

    def push(self, leg_id: str, pcm: bytes) -> None:
        """Audio a member sent (any length); it is cut into 20 ms frames."""
        queue = self._queues.get(leg_id)
        if queue is None:
            return
        data = self._partial.pop(leg_id, b"") + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            queue.append(data[start : start + FRAME_BYTES])
        if whole < len(data):
            self._partial[leg_id] = data[whole:]

    def _frame(self, leg_id: str) -> np.ndarray:
        queue = self._queues[leg_id]
        if not queue:
            return SILENCE
        return np.frombuffer(queue.popleft(), dtype="<i2").astype(np.int32)

    def mix(self) -> tuple[dict[str, bytes | None], bytes]:
        """One 20 ms step: what each member hears (None: nothing, it is held) and the recording frame."""
        frames = {leg_id: self._frame(leg_id) for leg_id in self.members}  # every queue moves on, heard or not
        room = SILENCE.copy()
        whispers: dict[str, np.ndarray] = {}
        for m in self.members.values():
            if not m.speaks:
                continue
            if m.role == "participant":
                room += frames[m.leg_id]
            elif m.role == "coach" and m.coach_of is not None:
                whispers[m.coach_of] = whispers.get(m.coach_of, SILENCE) + frames[m.leg_id]
        room_pcm = _saturate(room)
        out: dict[str, bytes | None] = {}
        for m in self.members.values():
            if m.hold:
                out[m.leg_id] = None
                continue
            own = m.role == "participant" and m.speaks
            whisper = whispers.get(m.leg_id)
            if not own and whisper is None:
                out[m.leg_id] = room_pcm  # the common case for listeners, coaches and the muted: no extra work
                continue
            heard = room - frames[m.leg_id] if own else room.copy()
            if whisper is not None:
                heard += whisper
            out[m.leg_id] = _saturate(heard)
        return out, room_pcm


def _saturate(samples: np.ndarray) -> bytes:
    return np.clip(samples, _LOW, _HIGH).astype("<i2").tobytes()
