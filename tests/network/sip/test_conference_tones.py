"""A conference's tones and wait audio through the HTTP API on real SIP: three baresip phones that say nothing,
mixed by the media engine. What alice hears over SIP is the proof: no tone when she joins with beep false, none
when bob joins with onExit (on hold, hearing his wait_url), the falling exit tone when bob is removed, the rising
entry tone when carol joins with true and the falling one when she leaves. Bob hears his wait audio until he is
taken off hold, and it stops then; a wait_url `play` could not use is a 400."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from legato.media.player import CONFERENCE_NOTES
from tests.network.sip import audio
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_media_legs import World, dial, media_world, wait_event  # noqa: F401 (media_world)

pytestmark = [pytest.mark.sip, pytest.mark.media]
WAIT_HZ = 1300
LOW, HIGH = CONFERENCE_NOTES


def test_beeps_follow_each_participant_s_beep_and_wait_audio_plays_while_on_hold(
    media_world: World,  # noqa: F811
    peers: Peers,
    tmp_path: Path,
) -> None:
    quiet = audio.silence(30.0, tmp_path / "quiet.wav")
    api, alice = media_world(user="alice", audio_file=quiet, dump_dir=tmp_path / "alice")
    audio.tone(WAIT_HZ, 0.5, tmp_path / "prompts" / "wait.wav")
    bob = peers.phone(user="bob", audio_file=quiet, dump_dir=tmp_path / "bob")
    carol = peers.phone(user="carol", audio_file=quiet)
    controls = [BaresipControl(p.extra["ctrl"]) for p in (alice, bob, carol)]
    base = f"{api.base}/conferences"
    try:
        a = dial(api, alice, "alice")
        assert api.wait_state(a, "connected")["state"] == "connected"
        b, c = (dial(api, phone, name, reference_leg_sid=a) for phone, name in ((bob, "bob"), (carol, "carol")))
        for leg in (b, c):
            assert api.wait_state(leg, "connected")["state"] == "connected"
        cid = api.http.post(base, json={"name": "tones"}).json()["response"]["data"]["conference_sid"]

        def add(leg: str, **fields: object) -> None:
            joined = api.http.post(f"{base}/{cid}/participants", json={"leg_sid": leg, **fields})
            assert joined.status_code == 201, joined.text

        def act(leg: str, action: str) -> None:
            done = api.http.post(f"{base}/{cid}/participants/{leg}/actions", json={"action": action})
            assert done.status_code == 202, done.text

        refused = api.http.post(f"{base}/{cid}/participants", json={"leg_sid": b, "wait_url": "../secret.wav"})
        assert refused.status_code == 400 and "wait_url" in refused.text  # play's rules: not a file it may use
        add(a, beep="false")
        add(b, beep="onExit", hold=True, wait_url="wait.wav")
        time.sleep(1.0)  # kept: bob hears his wait audio in real time for this long
        act(b, "unhold")
        [stopped] = wait_event(api, b, "play_completed")
        assert stopped["reason"] == "stopped"  # the wait audio ends when bob is taken off hold
        time.sleep(0.5)  # kept: real-time audio between the steps, so each tone stands alone
        act(b, "remove")
        time.sleep(0.6)  # kept: as above
        add(c, beep="true")
        time.sleep(0.6)  # kept: as above
        act(c, "remove")
        time.sleep(0.6)  # kept: the last tone reaches alice
        for leg in (a, b, c):
            api.action(leg, action="hangup")
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        for control in controls:
            control.close()
    [alice_heard] = (tmp_path / "alice").glob("*-dec.wav")
    [bob_heard] = (tmp_path / "bob").glob("*-dec.wav")
    # bob's exit (falling), carol's entry (rising), carol's exit (falling); nothing for alice's or bob's entry
    assert audio.notes(alice_heard, (LOW, HIGH, WAIT_HZ)) == [HIGH, LOW, LOW, HIGH, HIGH, LOW]
    # looped while on hold (one unbroken run), then never again; removed before carol came, bob hears no tone
    assert audio.notes(bob_heard, (LOW, HIGH, WAIT_HZ)) == [WAIT_HZ]
