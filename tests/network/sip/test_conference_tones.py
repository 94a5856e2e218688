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


def test_a_flow_s_wait_url_is_heard_until_the_conference_starts(
    media_world: World,  # noqa: F811
    peers: Peers,
    tmp_path: Path,
) -> None:
    """TwiML over real SIP: alice waits (startConferenceOnEnter false) hearing her waitUrl, an audio file requested
    with GET; bob (saying a 500 Hz tone) starts the conference: alice's wait audio stops and she hears bob; bob
    hears his own entry tone (beep true by default) and never alice's wait audio."""
    from twilio.twiml.voice_response import Conference, Dial, VoiceResponse

    from tests.flows.twiml_app import TwimlApp

    music = audio.tone(WAIT_HZ, 0.5, tmp_path / "music.wav").read_bytes()

    def joining(**attributes: object) -> str:
        response, dial = VoiceResponse(), Dial(action="/left")
        dial.append(Conference("flow-room", **attributes))
        response.append(dial)
        return str(response)

    app = TwimlApp({
        "/waiter": lambda p: joining(start_conference_on_enter=False, wait_url="/music.wav", wait_method="GET"),
        "/host": lambda p: joining(end_conference_on_exit=True),
        "/music.wav": lambda p: music,
        "/left": lambda p: str(VoiceResponse().hangup()),
    })
    quiet = audio.silence(30.0, tmp_path / "quiet.wav")
    api, alice = media_world(user="alice", audio_file=quiet, dump_dir=tmp_path / "alice",
                             env={"LEGATO_PLAY_URL_PREFIXES": f'["{app.base}/"]'})
    bob = peers.phone(user="bob", tone_hz=500, dump_dir=tmp_path / "bob")
    controls = [BaresipControl(p.extra["ctrl"]) for p in (alice, bob)]
    try:
        a = dial(api, alice, "alice", flow_url=app.url("/waiter"))
        [asked, _] = app.wait_all("/music.wav", count=2)  # the waitUrl (waitMethod), then play's download
        assert asked.method == "GET" and asked.params["CallSid"] == a
        time.sleep(1.0)  # kept: alice hears her wait audio in real time for this long
        b = dial(api, bob, "bob", reference_leg_sid=a, flow_url=app.url("/host"))
        [stopped] = wait_event(api, a, "play_completed")
        assert stopped["reason"] == "stopped"  # the conference started
        time.sleep(1.0)  # kept: alice hears bob in real time for this long
        api.action(b, action="hangup")  # endConferenceOnExit: alice's flow goes on to /left and hangs up
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=10)
        assert api.wait_terminal(a)["terminal_status"] == "completed"
    finally:
        for control in controls:
            control.close()
        app.close()
    [alice_heard] = (tmp_path / "alice").glob("*-dec.wav")
    [bob_heard] = (tmp_path / "bob").glob("*-dec.wav")
    heard = audio.notes(alice_heard, (LOW, HIGH, WAIT_HZ, 500))
    assert heard[:2] == [WAIT_HZ, 500] and heard.count(WAIT_HZ) == 1, heard
    heard = audio.notes(bob_heard, (LOW, HIGH, WAIT_HZ))
    assert heard[:2] == [LOW, HIGH] and WAIT_HZ not in heard, heard
