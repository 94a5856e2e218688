"""The sans-I/O stream core: chunking the leg's audio, playout through the jitter buffer, marks in order,
clear, and the rule of one bidirectional stream per leg."""

from __future__ import annotations

import base64
import json

import pytest

from legato.media import g711
from legato.media.stream.core import MAX_UNIDIRECTIONAL, StreamCore, StreamSet, check_room
from legato.media.stream.protocol import ProtocolError, StreamInfo
from legato.media.stream.registry import PROTOCOLS

FRAME = g711.FRAME_BYTES


def stream(bidirectional: bool = True, tracks: tuple[str, ...] = ("inbound",)) -> StreamCore:
    core = StreamCore("MZ1", PROTOCOLS["twilio"](StreamInfo("MZ1", "a", "L", tracks)), tracks, bidirectional)
    core.open(0.0)
    core.drain()
    return core


def media(ms: int, level: int = 1000) -> str:
    pcm = (level.to_bytes(2, "little", signed=True)) * (8 * ms)
    return json.dumps(
        {"event": "media", "media": {"payload": base64.b64encode(g711.encode(g711.Codec.PCMU, pcm)).decode()}}
    )


def events(core: StreamCore) -> list[str]:
    return [json.loads(f)["event"] for f in core.drain()]


def test_leg_audio_leaves_in_20ms_chunks_whatever_the_packet_size() -> None:
    core = stream()
    core.feed("inbound", b"\x00\x00" * 240, 0.03)  # 30 ms
    core.feed("outbound", b"\x00\x00" * 240, 0.03)  # not a track of this stream
    core.feed("inbound", b"\x00\x00" * 240, 0.06)
    sent = [json.loads(f) for f in core.drain()]
    assert [m["media"]["chunk"] for m in sent] == ["1", "2", "3"]
    # a chunk's timestamp is when its first sample arrived (Twilio's presentation timestamp): never repeated
    assert [m["media"]["timestamp"] for m in sent] == ["0", "20", "40"]


def test_timestamps_grow_by_at_least_a_chunk_and_follow_gaps() -> None:
    core = stream()
    core.feed("inbound", b"\x00\x00" * 160, 0.1)  # 0.08-0.1
    core.feed("inbound", b"\x00\x00" * 160, 0.101)  # bunched behind it: still 20 ms later
    core.feed("inbound", b"\x00\x00" * 160, 0.5)  # after a gap in the packets
    stamps = [int(json.loads(f)["media"]["timestamp"]) for f in core.drain()]
    assert stamps == [80, 100, 480]


def test_marks_return_in_order_after_their_audio() -> None:
    core = stream()
    core.receive(media(60))
    core.receive('{"event": "mark", "mark": {"name": "a"}}')
    core.receive(media(20))
    core.receive('{"event": "mark", "mark": {"name": "b"}}')
    played = []
    for _ in range(2):
        played.append(core.next_frame())
        assert events(core) == []
    played.append(core.next_frame())
    assert [json.loads(f)["mark"]["name"] for f in core.drain()] == ["a"]
    played.append(core.next_frame())
    assert [json.loads(f)["mark"]["name"] for f in core.drain()] == ["b"]
    assert all(frame is not None and len(frame) == FRAME for frame in played)
    assert core.next_frame() is None


def test_a_mark_with_nothing_queued_returns_at_once() -> None:
    core = stream()
    core.receive('{"event": "mark", "mark": {"name": "now"}}')
    assert events(core) == ["mark"]


def test_clear_drops_the_queue_and_returns_pending_marks() -> None:
    core = stream()
    core.receive(media(1000))
    core.receive('{"event": "mark", "mark": {"name": "a"}}')
    assert core.next_frame() is not None
    core.receive('{"event": "clear"}')
    assert [json.loads(f)["mark"]["name"] for f in core.drain()] == ["a"]
    assert core.next_frame() is None and not core.playing


def test_a_burst_plays_out_in_real_time_frames_without_gaps() -> None:
    core = stream()
    core.receive(media(20))
    assert core.next_frame() is not None  # a frame arriving when the queue ran dry plays at once
    core.receive(media(200))  # a text-to-speech burst: ten frames at once
    frames = [core.next_frame() for _ in range(11)]
    assert all(f is not None for f in frames[:10]) and frames[10] is None


def test_a_short_tail_waits_one_frame_then_is_padded() -> None:
    core = stream()
    core.receive(media(50))
    assert core.next_frame() is not None and core.next_frame() is not None
    assert core.next_frame() is None  # 10 ms left: wait for more
    tail = core.next_frame()
    assert tail is not None and tail[FRAME // 2 :] == bytes(FRAME // 2)


def test_unidirectional_streams_take_no_media_and_close_with_stop() -> None:
    core = stream(bidirectional=False)
    with pytest.raises(ProtocolError, match=r"^media sent on a unidirectional stream"):  # the event's name
        core.receive(media(20))
    with pytest.raises(ProtocolError, match=r"^clear sent"):
        core.receive('{"event": "clear"}')
    core.close()
    assert events(core) == ["stop"]
    core.feed("inbound", bytes(FRAME), 1.0)
    assert core.drain() == []


def test_one_bidirectional_stream_per_leg_and_a_few_more_that_listen() -> None:
    assert check_room([True], True) is not None
    assert check_room([True] + [False] * (MAX_UNIDIRECTIONAL - 1), False) is None
    assert check_room([False] * MAX_UNIDIRECTIONAL, False) is not None
    streams = StreamSet()
    streams.add(stream())
    with pytest.raises(ValueError, match="bidirectional"):
        streams.add(stream())
