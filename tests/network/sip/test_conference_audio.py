"""Conference mixing through SIP: three baresip phones, each saying its own tone, mixed in the media engine.

Phase 1 (all participants): each phone hears the other two and not itself; the conference recording holds
all three. Phase 2 (bob muted, carol coaching alice): alice hears carol and not bob; bob hears alice only
(the coach whispers to alice alone); carol hears alice; the recording holds alice only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from legato.app.actions.start_recording import StartRecording
from legato.app.actions.stop_recording import StopRecording
from legato.domain.machine import Answered, MediaEvent
from tests.network.sip import audio
from tests.network.sip.conftest import Harness, Peers
from tests.network.sip.peers import BaresipControl

pytestmark = [pytest.mark.sip, pytest.mark.media]
TONES = {"alice": 440, "bob": 1000, "carol": 1700}
HEARD = 0.15  # share of a tone's power in a mix of two or three that counts as heard (equal parts: ~0.3-0.5)
ABSENT = 0.02


def member(leg: str, **state: object) -> dict[str, object]:
    return {"leg_sid": leg, "role": "participant", "muted": False, "hold": False, "coach_leg_sid": None, **state}


def shares(path: Path, start: float = 0.0, end: float | None = None) -> dict[str, float]:
    return {name: audio.tone_share(path, hz, start, end) for name, hz in TONES.items()}


async def test_three_phones_mixed_with_mute_and_coach(peers: Peers, sip, tmp_path) -> None:  # type: ignore[no-untyped-def]
    phones = {name: peers.phone(user=name, tone_hz=hz, dump_dir=tmp_path / name) for name, hz in TONES.items()}
    net: Harness = await asyncio.wait_for(sip(), 20)
    for name, phone in phones.items():
        net.dial(name, f"sip:{name}@127.0.0.1:{phone.port}")
    for name in phones:
        await net.wait_for(name, Answered)
    for name in phones:  # what Legato sends each leg, from (about) the moment the mix starts
        await net.network.media(name, StartRecording(direction="out", folder="legs"))
    net.network.conference_mix("CF1", [member(n) for n in phones], "rooms")
    await asyncio.sleep(1.5)  # kept: each mix is heard in real time for this long (recorded, then measured)
    net.network.conference_mix(
        "CF1",
        [member("alice"), member("bob", muted=True), member("carol", role="coach", coach_leg_sid="alice")],
        "rooms",
    )
    await asyncio.sleep(1.5)  # kept: as above, the second mix
    room = await net.network.conference_end("CF1")
    files = {}
    for name in phones:
        await net.network.media(name, StopRecording())
        files[name] = tmp_path / "recordings" / "legs" / str((await net.wait_for(name, MediaEvent)).data["file"])
    controls = [BaresipControl(p.extra["ctrl"]) for p in phones.values()]
    try:
        for name in phones:
            net.network.bye(name)
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        for control in controls:
            control.close()
    await net.wait_ports_free()

    assert room is not None and room["file"] == "CF1.wav" and room["duration_ms"] >= 2500
    recording = tmp_path / "recordings" / "rooms" / "CF1.wav"
    phase1, phase2 = shares(recording, 0.3, 1.3), shares(recording, 1.9, 2.8)
    assert min(phase1.values()) > HEARD, phase1  # the room's recording holds all three
    assert phase2["alice"] > 0.8 and phase2["bob"] < ABSENT and phase2["carol"] < ABSENT, phase2

    one = {name: shares(path, 0.3, 1.3) for name, path in files.items()}
    two = {name: shares(path, 1.9, 2.8) for name, path in files.items()}
    for name in phones:  # phase 1: each hears the other two, never itself
        others = [o for o in phones if o != name]
        assert min(one[name][o] for o in others) > HEARD and one[name][name] < ABSENT, (name, one[name])
    assert two["alice"]["carol"] > HEARD and two["alice"]["bob"] < ABSENT, two["alice"]  # coach yes, muted no
    assert two["bob"]["alice"] > 0.8 and two["bob"]["carol"] < ABSENT, two["bob"]  # the whisper is alice's only
    assert two["carol"]["alice"] > 0.8 and two["carol"]["bob"] < ABSENT, two["carol"]

    for name in phones:  # and what each phone itself heard over SIP: the others, never its own tone
        [heard] = (tmp_path / name).glob("*-dec.wav")
        got = shares(heard)
        assert min(got[o] for o in phones if o != name) > 0.05 and got[name] < ABSENT, (name, got)
