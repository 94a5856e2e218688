"""Real audio on SIP legs through the HTTP API: AMD on what baresip plays, RTCP figures on the leg,
prompts reaching the phone, RFC 4733 digits gathered, recordings analysed (baresip called directly)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.legato_server import Api, LegatoServer
from tests.network.sip import audio
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl, Peer, free_port
from tests.waiting import wait_for

pytestmark = [pytest.mark.sip, pytest.mark.media]
EXOPHONE = "+918030752400"
CONFIG = """
[sip]
listen_host = "127.0.0.1"
listen_port = {sip_port}
rtp_port_min = {rtp}
rtp_port_max = {rtp_max}
"""

World = Callable[..., tuple[Api, Peer]]


@pytest.fixture
def media_world(peers: Peers, tmp_path: Path) -> Iterator[World]:
    """`media_world(env=..., **phone_options)`: a baresip phone and Legato on SIP (media engine, play folder; `env`:
    more settings)."""
    servers: list[LegatoServer] = []

    def start(amd_sync_cap: float = 10.0, env: dict[str, str] | None = None, **phone_options: Any) -> tuple[Api, Peer]:
        phone = peers.phone(**phone_options)
        sip_port, rtp = free_port(count=1), free_port(count=20)
        config = tmp_path / "legato.toml"
        config.write_text(CONFIG.format(sip_port=sip_port, rtp=rtp, rtp_max=rtp + 19))
        (tmp_path / "prompts").mkdir(exist_ok=True)
        settings = {"LEGATO_NETWORK": "sip", "LEGATO_CONFIG_FILE": str(config),
                    "LEGATO_RECORDINGS_DIR": str(tmp_path / "recordings"),
                    "LEGATO_MEDIA_CACHE_DIR": str(tmp_path / "cache"),
                    "LEGATO_PLAY_DIRS": json.dumps([str(tmp_path / "prompts")]),
                    "LEGATO_AMD_SYNC_CAP": str(amd_sync_cap), **(env or {})}
        server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}",
                              time_scale=1.0, env=settings)
        account = server.create_account("--sid", "acme", "--exophone", EXOPHONE)
        servers.append(server.start())
        return Api(server, account), phone

    yield start
    for server in servers:
        server.stop()


def dial(api: Api, phone: Peer, user: str = "phone", **fields: Any) -> str:
    response = api.create_leg(f"sip:{user}@127.0.0.1:{phone.port}", exophone=EXOPHONE, network_type="voip",
                              **fields)
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]


def wait_event(api: Api, leg_sid: str, name: str, count: int = 1, seconds: float = 15) -> list[dict[str, Any]]:
    events = api.wait_event(leg_sid, name, count, seconds)
    return [e["payload"]["event_data"]["data"] for e in events if e["event_name"] == name]


def wait_leg(api: Api, leg_sid: str, check: Callable[[dict[str, Any]], bool], seconds: float = 10) -> dict[str, Any]:
    return wait_for(lambda: api.leg(leg_sid), check, seconds=seconds, what="the leg's check", every=0.1)


def test_sync_amd_hears_a_human_say_hello(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(audio_file=audio.human_hello(tmp_path / "wav"))
    leg_sid = dial(api, phone, amd_enable=True)
    [answered] = wait_event(api, leg_sid, "leg_answered")
    assert answered["answered_by"] == "HUMAN"
    figures = answered["amd"]
    assert figures["answered_by"] == "HUMAN" and 1 <= figures["words"] <= 2
    assert 300 <= figures["initial_silence_ms"] <= 1500 and figures["decision_ms"] <= 5000
    leg = api.leg(leg_sid)
    assert leg["answered_by"] == "HUMAN" and leg["amd"] == figures
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_async_amd_hears_a_machine_then_its_beep(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(audio_file=audio.machine_greeting(tmp_path / "wav"))
    leg_sid = dial(api, phone, amd_enable=True, async_amd=True)
    verdicts = wait_event(api, leg_sid, "amd_result_success", count=2, seconds=25)
    assert [v["answered_by"] for v in verdicts] == ["MACHINE", "BEEP"]
    first = verdicts[0]["amd"]
    # a machine's phrase heard (WORDS: the recogniser's look-up after 1.25 s of greeting) or its length
    assert first["reason"] == "WORDS" or (first["words"] >= 3 and first["greeting_ms"] >= 1500)
    assert first["decision_ms"] <= 6000
    assert verdicts[1]["amd"]["decision_ms"] > verdicts[0]["amd"]["decision_ms"]
    names = [e["event_name"] for e in api.events(leg_sid)]
    assert names.index("leg_answered") < names.index("amd_result_success")
    assert api.leg(leg_sid)["answered_by"] == "BEEP"
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_sync_amd_calls_a_greeting_a_machine(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(audio_file=audio.machine_greeting(tmp_path / "wav", beep_hz=None))
    leg_sid = dial(api, phone, amd_enable=True)
    [answered] = wait_event(api, leg_sid, "leg_answered")
    assert answered["answered_by"] == "MACHINE"
    figures = answered["amd"]
    assert figures["reason"] == "WORDS" or figures["words"] >= 3 or figures["greeting_ms"] >= 2500
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_sync_amd_cap_sends_leg_answered_without_a_verdict(media_world: World) -> None:
    api, phone = media_world(amd_sync_cap=0.5)  # the phone's steady sine needs seconds to judge
    leg_sid = dial(api, phone, amd_enable=True)
    [answered] = wait_event(api, leg_sid, "leg_answered")
    assert answered["answered_by"] is None
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_rtcp_figures_are_kept_on_the_leg(media_world: World) -> None:
    api, phone = media_world()
    leg_sid = dial(api, phone)
    api.wait_state(leg_sid, "connected")
    time.sleep(1.5)  # kept: RTP and RTCP flow in real time; the figures need a stretch of them
    api.action(leg_sid, action="hangup")
    leg = wait_leg(api, leg_sid, lambda leg: leg["rtcp"] is not None)
    rtcp = leg["rtcp"]
    assert rtcp["packets_received"] >= 50, rtcp  # 20 ms packets for ~1.5 s
    assert rtcp["packets_lost"] == 0 and rtcp["fraction_lost"] == 0.0
    assert 0 <= rtcp["jitter_ms"] < 20


def test_play_reaches_the_phone(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(dump_dir=tmp_path / "heard", tone_hz=300)
    audio.tone(1000, 1.0, tmp_path / "prompts" / "tone.wav")
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = dial(api, phone)
        api.wait_state(leg_sid, "connected")
        play = api.action(leg_sid, action="play", url="tone.wav")
        assert play.status_code == 202, play.text
        [done] = wait_event(api, leg_sid, "play_completed")
        assert done["reason"] == "finished" and done["play_id"] == play.json()["response"]["data"][
            "action_result"]["play_id"]
        api.action(leg_sid, action="hangup")
        control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        control.close()
    heard = [p for p in (tmp_path / "heard").glob("*-dec.wav")]
    assert heard, list((tmp_path / "heard").iterdir())
    assert audio.tone_share(heard[0], 1000) > 0.8


def test_gather_collects_rfc4733_digits_from_the_phone(media_world: World) -> None:
    api, phone = media_world()
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = dial(api, phone)
        api.wait_state(leg_sid, "connected")
        control.wait_event("CALL_ESTABLISHED", timeout=5)
        assert api.action(leg_sid, action="gather", timeout=5).status_code == 202
        for key in "42#":
            control.command("sndcode", key)
            time.sleep(0.3)  # kept: a person's pace between keys (each digit is sent as real-time RTP events)
        [done] = wait_event(api, leg_sid, "gather_completed")
        assert (done["digits"], done["reason"]) == ("42", "finish_on_key")
        keys = wait_event(api, leg_sid, "dtmf_received", count=3)
        assert [(k["digit"], k["source"]) for k in keys] == [("4", "rfc4733"), ("2", "rfc4733"), ("#", "rfc4733")]
        api.action(leg_sid, action="hangup")
    finally:
        control.close()


def test_recording_of_what_the_phone_says(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(tone_hz=440)
    leg_sid = dial(api, phone)
    api.wait_state(leg_sid, "connected")
    assert api.action(leg_sid, action="start_recording", direction="in").status_code == 202
    time.sleep(2.0)  # kept: two seconds of the phone's real-time audio to record
    stopped = api.action(leg_sid, action="stop_recording")
    assert stopped.status_code == 202, stopped.text
    [done] = wait_event(api, leg_sid, "recording_completed")
    assert 1800 <= done["duration_ms"] <= 2600 and done["direction"] == "in"
    fetched = api.http.get(done["recording_url"])
    assert fetched.status_code == 200
    assert httpx.get(done["recording_url"]).status_code == 401
    wav = tmp_path / "fetched.wav"
    wav.write_bytes(fetched.content)
    assert audio.tone_share(wav, 440, start=0.3) > 0.8
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_bridge_through_the_api_carries_audio_both_ways(media_world: World, peers: Peers, tmp_path: Path) -> None:
    api, alice = media_world(user="alice", tone_hz=440, dump_dir=tmp_path / "alice")
    bob = peers.phone(user="bob", tone_hz=1300, dump_dir=tmp_path / "bob")
    controls = [BaresipControl(alice.extra["ctrl"]), BaresipControl(bob.extra["ctrl"])]
    try:
        a = dial(api, alice, "alice")
        assert api.wait_state(a, "connected")["state"] == "connected"
        b = dial(api, bob, "bob", reference_leg_sid=a)
        assert api.wait_state(b, "connected")["state"] == "connected"
        created = api.http.post(api.base + "/bridges", json={"leg_sids": [a, b], "end_on_exit": True})
        assert created.status_code == 201, created.text
        time.sleep(2.0)  # kept: the bridge carries real-time audio for this long before alice hangs up
        api.action(a, action="hangup")
        ended = api.wait_terminal(b)  # end_on_exit: alice's leg ending hangs up bob's
        assert ended["terminal_status"] == "completed"
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        for control in controls:
            control.close()
    [bob_heard] = (tmp_path / "bob").glob("*-dec.wav")
    [alice_heard] = (tmp_path / "alice").glob("*-dec.wav")
    assert audio.tone_share(bob_heard, 440) > 0.5
    assert audio.tone_share(alice_heard, 1300) > 0.5


def test_per_leg_amd_parameters_reach_the_detector(media_world: World, tmp_path: Path) -> None:
    api, phone = media_world(audio_file=audio.human_hello(tmp_path / "wav"))
    # the same "Hello?" that is HUMAN with the defaults is a machine when one word is already too many
    leg_sid = dial(api, phone, amd_enable=True, amd_params={"maximum_number_of_words": 1})
    [answered] = wait_event(api, leg_sid, "leg_answered")
    assert answered["answered_by"] == "MACHINE"
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_a_recording_s_beep_reaches_the_phone_and_stays_out_of_the_recording(
    media_world: World, tmp_path: Path
) -> None:
    api, phone = media_world(dump_dir=tmp_path / "heard", tone_hz=300)
    control = BaresipControl(phone.extra["ctrl"])
    try:
        leg_sid = dial(api, phone)
        api.wait_state(leg_sid, "connected")
        assert api.action(leg_sid, action="start_recording", direction="in", beep=True).status_code == 202
        time.sleep(1.5)  # kept: the beep and then the phone's real-time audio, recorded
        assert api.action(leg_sid, action="stop_recording").status_code == 202
        [done] = wait_event(api, leg_sid, "recording_completed")
        wav = tmp_path / "recorded.wav"
        wav.write_bytes(api.http.get(done["recording_url"]).content)
        assert audio.tone_share(wav, 1000) < 0.1 and audio.tone_share(wav, 300, start=0.2) > 0.8  # the phone only
        assert "play_completed" not in [e["event_name"] for e in api.events(leg_sid)]
        api.action(leg_sid, action="hangup")
        control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        control.close()
    heard = [p for p in (tmp_path / "heard").glob("*-dec.wav")]
    assert heard, list((tmp_path / "heard").iterdir())
    assert audio.tone_share(heard[0], 1000) > 0.8  # all the phone heard is the beep
