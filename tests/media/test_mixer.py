"""The conference mixer's rules on exact samples: who hears whom, saturation, framing, queue bounds."""

from __future__ import annotations

import numpy as np

from legato.media.g711 import FRAME_SAMPLES
from legato.media.mixer import MAX_QUEUED, Mixer, MixMember


def frame(value: int) -> bytes:
    return np.full(FRAME_SAMPLES, value, dtype="<i2").tobytes()


def level(pcm: bytes | None) -> int | None:
    if pcm is None:
        return None
    samples = np.frombuffer(pcm, dtype="<i2")
    assert (samples == samples[0]).all()
    return int(samples[0])


def step(mixer: Mixer, said: dict[str, int]) -> tuple[dict[str, int | None], int | None]:
    for leg_id, value in said.items():
        mixer.push(leg_id, frame(value))
    heard, room = mixer.mix()
    return {k: level(v) for k, v in heard.items()}, level(room)


def test_each_hears_the_others_and_the_recording_holds_all() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b"), MixMember("c")])
    assert step(mixer, {"a": 1, "b": 10, "c": 100}) == ({"a": 110, "b": 101, "c": 11}, 111)


def test_muted_held_listener_and_coach() -> None:
    mixer = Mixer()
    mixer.set_members(
        [
            MixMember("agent"),
            MixMember("caller"),
            MixMember("boss", "coach", coach_of="agent"),
            MixMember("qa", "listener"),
            MixMember("muted", muted=True),
            MixMember("held", hold=True),
        ]
    )
    heard, room = step(mixer, {"agent": 1, "caller": 10, "boss": 100, "qa": 1000, "muted": 3000, "held": 7000})
    assert heard == {"agent": 110, "caller": 1, "boss": 11, "qa": 11, "muted": 11, "held": None}
    assert room == 11  # the whisper, the listener, the muted and the held are not in the recording


def test_sum_saturates_instead_of_wrapping() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b"), MixMember("c")])
    heard, room = step(mixer, {"a": 30000, "b": 30000, "c": -30000})
    assert (heard["c"], room) == (32767, 30000)
    heard, room = step(mixer, {"a": -30000, "b": -30000, "c": 0})
    assert (heard["c"], room) == (-32768, -32768)


def test_audio_is_framed_and_queues_are_bounded() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b")])
    half = frame(5)[:FRAME_SAMPLES]  # 80 samples
    mixer.push("a", half)
    assert step(mixer, {})[0]["b"] == 0  # half a frame is not heard yet
    mixer.push("a", half)
    assert step(mixer, {})[0]["b"] == 5
    for value in range(MAX_QUEUED + 3):
        mixer.push("a", frame(value))
    got = [step(mixer, {})[0]["b"] for _ in range(MAX_QUEUED + 1)]
    assert got == [*range(3, MAX_QUEUED + 3), 0]  # the oldest went; then silence, not stale audio


def test_membership_changes_keep_the_rest() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b")])
    mixer.push("a", frame(7))
    mixer.set_members([MixMember("a"), MixMember("b", muted=True), MixMember("c")])
    mixer.push("c", frame(2))
    mixer.push("ghost", frame(9))  # not a member: ignored
    assert step(mixer, {"b": 50}) == ({"a": 2, "b": 9, "c": 7}, 9)


def test_reordered_members_keep_their_own_audio() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b"), MixMember("c", "listener")])
    mixer.push("a", frame(1))
    mixer.push("b", frame(20))
    mixer.set_members([MixMember("c", "listener"), MixMember("b"), MixMember("a")])
    assert step(mixer, {}) == ({"a": 20, "b": 1, "c": 21}, 21)


def test_a_tone_is_heard_by_every_member_not_held_and_recorded() -> None:
    mixer = Mixer()
    mixer.set_members([MixMember("a"), MixMember("b", "listener"), MixMember("held", hold=True)])
    mixer.tone(frame(100) + frame(200)[: FRAME_SAMPLES])  # a frame and a half: the last one is padded
    assert step(mixer, {"a": 1}) == ({"a": 100, "b": 101, "held": None}, 101)
    heard, room = mixer.mix()
    assert np.frombuffer(heard["a"] or b"", dtype="<i2")[:80].tolist() == [200] * 80
    assert np.frombuffer(room, dtype="<i2")[80:].tolist() == [0] * 80
    assert step(mixer, {"a": 1}) == ({"a": 0, "b": 1, "held": None}, 1)  # played once


def test_a_tone_plays_into_an_empty_room() -> None:
    mixer = Mixer()
    mixer.tone(frame(40))
    assert mixer.mix() == ({}, frame(40))
    assert mixer.mix() == ({}, frame(0))
