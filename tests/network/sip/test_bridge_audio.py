"""Bridged audio at the network level: two baresip phones, each saying its own tone; once bridged in the
media engine each hears the other's tone; after unbridge nothing flows between them."""

from __future__ import annotations

import asyncio

import pytest

from legato.app.actions.start_recording import StartRecording
from legato.app.actions.stop_recording import StopRecording
from legato.domain.machine import Answered, MediaEvent
from tests.network.sip import audio
from tests.network.sip.conftest import Harness, Peers
from tests.network.sip.peers import BaresipControl

pytestmark = [pytest.mark.sip, pytest.mark.media]


async def test_bridged_phones_hear_each_other_until_unbridged(peers: Peers, sip, tmp_path) -> None:  # type: ignore[no-untyped-def]
    alice = peers.phone(user="alice", tone_hz=440, dump_dir=tmp_path / "alice")
    bob = peers.phone(user="bob", tone_hz=1300, dump_dir=tmp_path / "bob")
    net: Harness = await asyncio.wait_for(sip(), 20)
    net.dial("leg-a", f"sip:alice@127.0.0.1:{alice.port}")
    net.dial("leg-b", f"sip:bob@127.0.0.1:{bob.port}")
    await net.wait_for("leg-a", Answered)
    await net.wait_for("leg-b", Answered)
    # what Legato sends to bob, on the wall clock: nothing, then alice's tone, then nothing again
    await net.network.media("leg-b", StartRecording(direction="out", folder="bridge"))
    # kept: the recording is of real-time audio; each stretch (silence, tone, silence) lasts this long
    await asyncio.sleep(0.5)
    net.network.bridge("BR1", ["leg-a", "leg-b"])
    await asyncio.sleep(1.5)
    net.network.unbridge("BR1", ["leg-a", "leg-b"])
    await asyncio.sleep(1.0)
    await net.network.media("leg-b", StopRecording())
    done = await net.wait_for("leg-b", MediaEvent)
    assert done.name == "recording_completed"
    controls = [BaresipControl(alice.extra["ctrl"]), BaresipControl(bob.extra["ctrl"])]
    try:
        net.network.bye("leg-a")
        net.network.bye("leg-b")
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        for control in controls:
            control.close()
    await net.wait_ports_free()

    sent_to_bob = tmp_path / "recordings" / "bridge" / str(done.data["file"])
    assert audio.level(sent_to_bob, 0.0, 0.4) < 50  # before the bridge: silence
    assert audio.tone_share(sent_to_bob, 440, 0.7, 1.9) > 0.8  # bridged: alice's tone
    assert audio.level(sent_to_bob, 2.3, 2.9) < 50  # after unbridge: silence again
    [bob_heard] = (tmp_path / "bob").glob("*-dec.wav")
    [alice_heard] = (tmp_path / "alice").glob("*-dec.wav")
    assert audio.tone_share(bob_heard, 440) > 0.8
    assert audio.tone_share(alice_heard, 1300) > 0.8
