"""Media streams on a real SIP leg: baresip speaks a WAV, a real WebSocket agent hears it, echoes it back
(baresip records what it hears), marks return after their audio played, clear cuts, RFC 4733 keys
arrive as dtmf, and hanging up sends stop. Once per protocol."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from standardwebhooks import Webhook

from legato.media.wavfile import read_pcm
from tests.media.signals import tone, tone_ratio
from tests.network.sip import audio, test_media_legs
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_media_legs import EXOPHONE, World, dial, wait_event
from tests.stream_agent import Agent, best_correlation, envelope, wait_for

pytestmark = [pytest.mark.sip, pytest.mark.media]
media_world = test_media_legs.media_world  # the fixture: baresip and Legato on SIP
SPEECH = "one two three four five six seven"


def tone_frames(pcm: bytes, hz: int) -> int:
    """How many 20 ms frames of `pcm` are mostly a `hz` tone."""
    return sum(1 for i in range(0, len(pcm) - 319, 320) if tone_ratio(pcm[i : i + 320], hz) > 0.6)


@pytest.mark.parametrize(("protocol", "rate"), [("twilio", 8000), ("exotel", 16000)])
def test_a_voice_agent_hears_the_phone_and_talks_back(
    media_world: World,
    tmp_path: Path,
    protocol: str,
    rate: int,
) -> None:
    wav = tmp_path / "wav"
    wav.mkdir()
    spoken = audio.speech(SPEECH, wav / "speech.wav")
    source = audio.join(
        [audio.silence(0.5, wav / "lead.wav"), spoken, audio.silence(12, wav / "tail.wav")], wav / "phone.wav"
    )
    api, phone = media_world(audio_file=source, dump_dir=tmp_path / "heard")
    agent = Agent(protocol, echo=True)
    control = BaresipControl(phone.extra["ctrl"])
    try:
        stream = {
            "url": agent.url,
            "protocol": protocol,
            "bidirectional": True,
            "custom_parameters": {"k": "v"},
            "sample_rate": rate,
        }
        leg_sid = dial(api, phone, stream=stream)
        [started] = wait_event(api, leg_sid, "stream_started")
        agent.wait(lambda: agent.events("start"), what="start")
        sid = agent.sid()
        assert started["stream_sid"] == sid
        # the handshake is signed: webhook-id is the stream, the payload the request target
        Webhook(api.account.webhook_secret).verify(json.dumps(agent.paths[0]), agent.headers[0])
        assert agent.headers[0]["webhook-id"] == sid and agent.paths[0] == "/agent?room=1"
        check_opening(agent, protocol, leg_sid, rate)

        # the phone's words reach the agent (and, echoed, the phone) in real time
        words = len(read_pcm(str(spoken))) // 320
        agent.wait(lambda: agent.media_count() >= words + 60, seconds=20, what="the phone's speech")
        heard = envelope(agent.inbound_pcm())
        assert best_correlation(heard, envelope(read_pcm(str(spoken)))) > 0.8

        # a mark after one second of audio comes back only once that second has played
        agent.echo = False
        before = agent.media_count()
        agent.send_audio(tone(1000, 1000))
        agent.mark("after-tone")
        [mark] = agent.wait(lambda: agent.events("mark"), what="mark")
        assert mark["mark"]["name"] == "after-tone"
        assert agent.media_count() - before >= 25  # 50 chunks of the phone's audio arrive during that second

        # clear in the middle of ten seconds cuts it at once and returns the pending mark
        sent = agent.media_count()
        agent.send_audio(tone(1300, 10_000))
        agent.mark("never-played")
        agent.wait(lambda: agent.media_count() >= sent + 50, what="more media")
        at_clear = agent.media_count()
        agent.clear()
        agent.wait(lambda: len(agent.events("mark")) == 2, what="the cleared mark")
        assert agent.events("mark")[1]["mark"]["name"] == "never-played"
        assert agent.media_count() - at_clear < 150  # far sooner than the 10 s queued

        # keys the phone presses (RFC 4733) arrive as dtmf
        control.wait_event("CALL_ESTABLISHED", timeout=5)
        for key in "5#":
            control.command("sndcode", key)
            agent.wait(lambda k=key: [d for d in agent.events("dtmf") if d["dtmf"]["digit"] == k], what=key)

        # a second, listen-only stream of what the phone hears runs beside it, and stop_stream ends it
        listener = Agent(protocol)
        try:
            second = api.action(
                leg_sid, action="start_stream", url=listener.url, protocol=protocol, track="outbound", sample_rate=rate
            )
            assert second.status_code == 202, second.text
            other = second.json()["response"]["data"]["action_result"]["stream_sid"]
            agent.send_audio(tone(1000, 1000))  # the outbound track carries what the phone is sent
            agent.mark("second-tone")
            listener.wait(lambda: listener.media_count() >= 30, what="the outbound track")
            assert {m["media"]["track"] for m in listener.events("media")} == {"outbound"}
            agent.wait(lambda: len(agent.events("mark")) == 3, what="the second tone played")
            assert api.action(leg_sid, action="stop_stream", stream_sid=other).status_code == 202
            listener.wait(listener.closed.is_set, what="the second stream's close")
            assert listener.frames[-1]["event"] == "stop"
            stops = wait_event(api, leg_sid, "stream_stopped")
            assert (stops[0]["stream_sid"], stops[0]["reason"]) == (other, "requested")
        finally:
            listener.close()

        # the leg ending sends stop and closes the WebSocket; stream_stopped says why
        assert api.action(leg_sid, action="hangup").status_code == 202
        agent.wait(agent.closed.is_set, what="the close")
        assert agent.frames[-1]["event"] == "stop"
        stopped = wait_event(api, leg_sid, "stream_stopped", count=2)[1]
        assert stopped == {**stopped, "stream_sid": sid, "reason": "hangup"}
        check_sequence(agent, protocol)
        control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        control.close()
        agent.close()

    # what the phone heard: its own words echoed, the 1000 Hz second, and far less than 10 s of 1300 Hz
    [dump] = (tmp_path / "heard").glob("*-dec.wav")
    phone_heard = read_pcm(str(dump))
    assert best_correlation(envelope(phone_heard), envelope(read_pcm(str(spoken)))) > 0.7
    assert 80 <= tone_frames(phone_heard, 1000) <= 120  # 2 s, give or take the phone's jitter
    assert 25 <= tone_frames(phone_heard, 1300) < 250


def check_opening(agent: Agent, protocol: str, leg_sid: str, rate: int) -> None:
    connected, start = agent.frames[0], agent.frames[1]
    assert connected["event"] == "connected" and start["event"] == "start"
    body = start["start"]
    if protocol == "twilio":
        assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
        assert body["callSid"] == leg_sid and body["accountSid"] == "acme" and body["tracks"] == ["inbound"]
        assert body["customParameters"] == {"k": "v"}
        assert body["mediaFormat"] == {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    else:
        assert body["call_sid"] == leg_sid and body["account_sid"] == "acme"
        assert body["custom_parameters"] == {"k": "v"} and body["media_format"]["sample_rate"] == str(rate)


def check_sequence(agent: Agent, protocol: str) -> None:
    key = "sequenceNumber" if protocol == "twilio" else "sequence_number"
    numbers = [int(f[key]) for f in agent.frames[1:]]
    assert numbers == list(range(1, len(numbers) + 1))
    media = agent.events("media")
    chunks = [int(m["media"]["chunk"]) for m in media]
    assert chunks == list(range(1, len(chunks) + 1))
    stamps = np.array([int(m["media"]["timestamp"]) for m in media])
    assert (np.diff(stamps) >= 0).all()
    payload = len(media[0]["media"]["payload"])
    assert payload == (216 if protocol == "twilio" else 856)  # base64 of 160 mu-law bytes / 640 PCM bytes


def test_answering_an_inbound_sip_call_with_a_stream(
    media_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the phone calls Legato straight from 127.0.0.1 (a source the operator lists) at acme's exophone
    extra = f'inbound_networks = ["127.0.0.1/32"]\n\n[[sip.exophones]]\nnumber = "{EXOPHONE}"\naccount_sid = "acme"\n'
    monkeypatch.setattr(test_media_legs, "CONFIG", test_media_legs.CONFIG + extra)
    api, phone = media_world(tone_hz=440)
    sip_port = re.search(r"listen_port = (\d+)", (tmp_path / "legato.toml").read_text()).group(1)  # type: ignore[union-attr]
    agent = Agent("twilio")
    control = BaresipControl(phone.extra["ctrl"])
    try:
        control.command("dial", f"sip:{EXOPHONE}@127.0.0.1:{sip_port}")
        legs = wait_for(api.inbound_legs, what="the inbound leg")
        leg_sid = str(legs[0]["leg_sid"])
        answered = api.action(leg_sid, action="answer", stream={"url": agent.url, "custom_parameters": {"q": "1"}})
        assert answered.status_code == 202, answered.text
        agent.wait(lambda: agent.media_count() >= 50, what="the caller's audio")
        start = agent.events("start")[0]["start"]
        assert start["callSid"] == leg_sid and start["customParameters"] == {"q": "1"}
        assert tone_ratio(agent.inbound_pcm()[-8000:], 440) > 0.8  # the caller's 440 Hz sine
        api.action(leg_sid, action="hangup")
        agent.wait(agent.closed.is_set, what="the close")
        assert agent.frames[-1]["event"] == "stop"
    finally:
        control.close()
        agent.close()
