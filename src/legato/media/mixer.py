"""Conference mixing as a pure step function: 20 ms of each member's audio in, what each one hears out.

Rules: a participant is heard by every other member; a coach only by the leg it coaches; a listener by
nobody; a muted member is not heard; a held member is not heard and hears nothing (None). Each member
hears the sum of what it may hear minus its own voice, saturated to 16 bits (no wrap-around clicks).
The recording frame is what the room hears: the sum of the participants heard (coaches whisper, so they
are not in it). A tone (`tone`: a conference's entry or exit beep) is played into the room: every member that is
not held hears it, and the recording holds it. Audio is 16-bit linear PCM at 8 kHz; the channel decodes and
encodes G.711 around this.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from legato.media.g711 import FRAME_BYTES, FRAME_SAMPLES

MAX_QUEUED = 5  # frames held per member (100 ms): more means its clock runs fast; the oldest go
SILENCE_BYTES = bytes(FRAME_BYTES)
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
        self._heard_by_all = np.zeros(0, dtype=bool)  # per member, in order: a participant that speaks
        self._whispers: list[tuple[int, int]] = []  # (coach row, coached row) of coaches that speak
        self._held: list[bool] = []
        self._tone: deque[bytes] = deque()  # 20 ms frames of the tones still to play into the room

    def set_members(self, members: list[MixMember]) -> None:
        """Replace the membership (audio queued for members that stay is kept)."""
        self.members = {m.leg_id: m for m in members}
        for gone in set(self._queues) - set(self.members):
            del self._queues[gone]
            self._partial.pop(gone, None)
        for leg_id in self.members:
            self._queues.setdefault(leg_id, deque(maxlen=MAX_QUEUED))
        row = {leg_id: k for k, leg_id in enumerate(self.members)}
        order = list(self.members.values())
        self._heard_by_all = np.array([m.speaks and m.role == "participant" for m in order], dtype=bool)
        self._whispers = [
            (k, row[m.coach_of]) for k, m in enumerate(order) if m.speaks and m.role == "coach" and m.coach_of in row
        ]
        self._held = [m.hold for m in order]

    def push(self, leg_id: str, pcm: bytes) -> None:
        """Audio a member sent (any length); it is cut into 20 ms frames."""
        queue = self._queues.get(leg_id)
        if queue is None:
            return
        if len(pcm) == FRAME_BYTES and leg_id not in self._partial:
            queue.append(pcm)  # the usual 20 ms packet
            return
        data = self._partial.pop(leg_id, b"") + pcm
        whole = len(data) - len(data) % FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            queue.append(data[start : start + FRAME_BYTES])
        if whole < len(data):
            self._partial[leg_id] = data[whole:]

    def tone(self, pcm: bytes) -> None:
        """Play `pcm` into the room from the next step (after any tone still playing)."""
        for start in range(0, len(pcm), FRAME_BYTES):
            self._tone.append(pcm[start : start + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00"))

    def mix(self) -> tuple[dict[str, bytes | None], bytes]:
        """One 20 ms step: what each member hears (None: nothing, it is held) and the recording frame."""
        tone = np.frombuffer(self._tone.popleft(), dtype="<i2").astype(np.int32) if self._tone else None
        if not self.members:
            return {}, SILENCE_BYTES if tone is None else _saturate(tone).tobytes()
        queues = [self._queues[leg_id] for leg_id in self.members]
        raw = b"".join(q.popleft() if q else SILENCE_BYTES for q in queues)  # every queue moves on, heard or not
        frames = np.frombuffer(raw, dtype="<i2").reshape(len(self.members), FRAME_SAMPLES).astype(np.int32)
        room = frames[self._heard_by_all].sum(axis=0)
        heard = room - frames * self._heard_by_all[:, None]  # all but your own voice
        for coach, coached in self._whispers:
            heard[coached] += frames[coach]
        if tone is not None:
            heard += tone
            room = room + tone
        pcm = _saturate(heard)
        out = {
            leg_id: None if held else pcm[k].tobytes()
            for k, (leg_id, held) in enumerate(zip(self.members, self._held, strict=True))
        }
        return out, _saturate(room).tobytes()


def _saturate(samples: np.ndarray) -> np.ndarray:
    return np.clip(samples, _LOW, _HIGH).astype("<i2")
