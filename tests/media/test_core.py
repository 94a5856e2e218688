"""MediaCore in-process: commands parsed from their declarations, handler bugs not hidden as bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from legato.media import commands
from legato.media.base import MediaError, MediaNotification
from legato.media.core import MediaCore
from legato.media.ports import PortPool
from tests.network.sip.peers import free_port
from tests.waiting import until


def make_core(tmp_path: Path, notes: list[MediaNotification]) -> MediaCore:
    first = free_port()
    return MediaCore(PortPool(first, first + 3), "127.0.0.1", "127.0.0.1", lambda owner, n: notes.append(n),
                     tmp_path / "rec", tmp_path / "cache")


async def test_bad_arguments_are_bad_requests_naming_the_command(tmp_path: Path) -> None:
    core = make_core(tmp_path, [])
    for name, args, text in [("frobnicate", {}, "unknown command"), ("allocate", {}, "allocate:"),
                             ("mute", {"leg_id": "x", "loud": True}, "mute:")]:
        with pytest.raises(MediaError) as err:
            await core.handle(None, name, args)
        assert err.value.code == "bad_request" and text in err.value.message


async def test_a_type_error_inside_a_handler_is_not_reported_as_bad_request(tmp_path: Path) -> None:
    core = make_core(tmp_path, [])

    async def broken(owner: object, cmd: commands.Ping) -> dict:
        raise TypeError("a bug in the handler")

    core.handlers[commands.Ping] = broken
    with pytest.raises(TypeError):
        await core.handle(None, "ping", {})


async def test_every_declared_command_has_a_handler(tmp_path: Path) -> None:
    core = make_core(tmp_path, [])
    assert set(core.handlers) == set(commands.COMMANDS.values())


async def test_release_waits_for_the_recording_file(tmp_path: Path) -> None:
    notes: list[MediaNotification] = []
    core = make_core(tmp_path, notes)
    await core.handle(None, "allocate", {"leg_id": "r1"})
    started = await core.handle(None, "start_recording", {"leg_id": "r1"})
    await core.handle(None, "release", {"leg_id": "r1"})
    assert await asyncio.to_thread(Path(started["path"]).exists)
    assert [n.data["reason"] for n in notes if n.name == "recording_completed"] == ["released"]


async def test_conference_commands_check_their_input_and_write_the_room(tmp_path: Path) -> None:
    core = make_core(tmp_path, [])
    await core.handle(None, "allocate", {"leg_id": "c1"})
    for args, text in [
        ({"conference_id": "../x", "members": []}, "conference_id"),
        ({"conference_id": "cf", "members": [{"leg_id": "c1", "loud": True}]}, "member"),
        ({"conference_id": "cf", "members": [], "record_folder": "../../etc"}, "folder"),
    ]:
        with pytest.raises(MediaError) as err:
            await core.handle(None, "conference_set", args)
        assert err.value.code == "bad_request" and text in err.value.message
    members = [{"leg_id": "c1"}, {"leg_id": "gone", "role": "listener"}]  # a leg without media is skipped
    assert await core.handle(
        None, "conference_set", {"conference_id": "cf", "members": members, "record_folder": "acct"}
    ) == {"members": 2}
    # the mix runs on the loop's own 20 ms timer: the recording has something once one step ran
    await until(lambda: core.conferences["cf"].steps, what="a mixed step")
    ended = await core.handle(None, "conference_end", {"conference_id": "cf"})
    assert ended["file"] == "cf.wav" and ended["steps"] >= 1 and Path(ended["path"]).parent == tmp_path / "rec" / "acct"
    assert core.channels["c1"].core.mix_sink is None  # the leg stays, no longer mixed
    with pytest.raises(MediaError) as err:
        await core.handle(None, "conference_end", {"conference_id": "cf"})
    assert err.value.code == "unknown_conference"
    await core.close()


async def test_a_beep_before_the_recording_and_a_gather_that_ends_on_silence(tmp_path: Path) -> None:
    import socket

    from legato.media import g711, rtp
    from tests.media.signals import tone_ratio

    notes: list[MediaNotification] = []
    core = make_core(tmp_path, notes)
    far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far.bind(("127.0.0.1", 0))
    far.setblocking(False)
    try:
        await core.handle(None, "allocate", {"leg_id": "b1"})
        await core.handle(None, "set_remote", {"leg_id": "b1", "address": "127.0.0.1",
                                               "port": far.getsockname()[1], "payload_type": 0})
        await core.handle(None, "start_recording", {"leg_id": "b1", "direction": "in", "beep": True})
        with pytest.raises(MediaError) as err:
            await core.handle(None, "gather", {"leg_id": "b1", "silence_timeout": 0})
        assert err.value.code == "bad_request" and "silence_timeout" in err.value.message
        await core.handle(None, "gather", {"leg_id": "b1", "timeout": 60, "silence_timeout": 0.3})
        loop = asyncio.get_running_loop()
        payloads = []
        while len(payloads) < 25:  # the far end hears 0.5 s of tone
            data = await asyncio.wait_for(loop.sock_recv(far, 2048), 10)
            payloads.append(g711.decode(0, rtp.parse(data).payload))
        assert tone_ratio(b"".join(payloads), 1000) > 0.9
        # the far end says nothing: the gather ends on silence (0.3 s of it, on the loop's clock)
        await until(lambda: [n for n in notes if n.name == "gather_completed"], seconds=4, what="gather_completed")
        assert [n.data for n in notes if n.name == "gather_completed"] == [{"digits": "", "reason": "silence"}]
        assert not any(n.name == "play_completed" for n in notes)
    finally:
        far.close()
        await core.close()


async def test_conference_beep_plays_the_entry_and_exit_tones_into_the_room(tmp_path: Path) -> None:
    from legato.media.player import CONFERENCE_NOTES, NOTE_SECONDS, conference_tone
    from legato.media.wavfile import read_pcm
    from tests.media.signals import tone_ratio

    core = make_core(tmp_path, [])
    with pytest.raises(MediaError) as err:
        await core.handle(None, "conference_beep", {"conference_id": "none", "kind": "enter"})
    assert err.value.code == "unknown_conference"
    await core.handle(None, "conference_set", {"conference_id": "cf", "members": [], "record_folder": "acct"})
    with pytest.raises(MediaError) as err:
        await core.handle(None, "conference_beep", {"conference_id": "cf", "kind": "loud"})
    assert err.value.code == "bad_request"
    for kind in ("enter", "exit"):
        assert await core.handle(None, "conference_beep", {"conference_id": "cf", "kind": kind}) == {}
    tones = len(conference_tone("enter")) + len(conference_tone("exit"))
    mix = core.conferences["cf"]
    await until(lambda: len(mix.recorded) > tones, what="both tones mixed")  # the mix's own 20 ms timer
    ended = await core.handle(None, "conference_end", {"conference_id": "cf"})
    pcm = read_pcm(ended["path"])
    start = next(i for i in range(0, len(pcm), 320) if any(pcm[i : i + 320]))  # the first 20 ms that is not silence
    note = int(NOTE_SECONDS * 8000) * 2
    low, high = CONFERENCE_NOTES
    notes = [pcm[start + k * note : start + (k + 1) * note] for k in range(4)]
    assert [round(tone_ratio(n, low), 1) for n in notes] == [1.0, 0.0, 0.0, 1.0]  # rising, then falling
    assert [round(tone_ratio(n, high), 1) for n in notes] == [0.0, 1.0, 1.0, 0.0]
    await core.close()
