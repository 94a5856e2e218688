"""Media streams through the HTTP API on the sandbox: a real WebSocket agent, a simulated far end that
speaks (espeak-ng) and presses keys, the agent's audio kept as the leg's outbound recording; the
request rules (400/409 naming the field); a dropped or unreachable agent leaves the leg up."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from legato.media import g711
from legato.media.wavfile import read_pcm
from tests.legato_server import Api, LegatoServer, free_port
from tests.media.signals import tone
from tests.network.sip import audio
from tests.stream_agent import Agent, best_correlation, envelope, wait_for

pytestmark = pytest.mark.media
HUMAN = "09163816621"  # answers after 3 s of sandbox clock
SAYS = "Hello, I would like to book a table for two."


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    workdir = tmp_path_factory.mktemp("legato-streams")
    env = {"LEGATO_RECORDINGS_DIR": str(workdir / "rec"), "LEGATO_MEDIA_CACHE_DIR": str(workdir / "cache")}
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}", env=env).start()
    try:
        yield Api(server, server.create_account("--exophone", "08030752400")), workdir
    finally:
        server.stop()


def wait_event(api: Api, leg_sid: str, name: str, count: int = 1) -> list[dict[str, Any]]:
    def check() -> list[dict[str, Any]]:
        found = [e["payload"]["event_data"]["data"] for e in api.events(leg_sid) if e["event_name"] == name]
        return found if len(found) >= count else []

    return wait_for(check, what=name)  # type: ignore[no-any-return]


def connected_leg(api: Api, **fields: Any) -> str:
    created = api.create_leg(HUMAN, **fields)
    assert created.status_code == 202, created.text
    leg_sid = created.json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected")["state"] == "connected"
    return leg_sid


def test_an_agent_talks_with_the_sandbox_far_end(world: tuple[Api, Path], tmp_path: Path) -> None:
    api, _ = world
    agent = Agent("twilio", echo=True)
    try:
        leg_sid = connected_leg(api, sandbox_far_end={"say": SAYS, "keys": "42", "keys_after": 0.5})
        started = api.action(
            leg_sid, action="start_stream", url=agent.url, protocol="twilio", track="both", bidirectional=True
        )
        assert started.status_code == 202, started.text
        sid = started.json()["response"]["data"]["action_result"]["stream_sid"]
        agent.wait(lambda: agent.events("start"), what="start")
        assert agent.sid() == sid and agent.events("start")[0]["start"]["tracks"] == ["inbound", "outbound"]
        # the far end's words, then its keys
        said = read_pcm(str(audio.speech(SAYS, tmp_path / "says.wav")))
        agent.wait(lambda: len(agent.inbound_pcm()) >= len(said) + 16_000, seconds=30, what="the far end")
        assert best_correlation(envelope(agent.inbound_pcm()), envelope(said)) > 0.8
        digits = agent.wait(lambda: len(agent.events("dtmf")) >= 2 and agent.events("dtmf"), what="dtmf")
        assert [d["dtmf"]["digit"] for d in digits] == ["4", "2"]
        assert [k["digit"] for k in wait_event(api, leg_sid, "dtmf_received", 2)] == ["4", "2"]
        # marks come back only after the audio before them played, in order; clear returns the pending ones
        agent.echo = False
        before = agent.media_count()
        agent.send_audio(tone(1000, 1000))
        agent.mark("one")
        agent.send_audio(tone(1000, 10_000))
        agent.mark("two")
        agent.wait(lambda: agent.events("mark"), what="mark one")
        assert agent.media_count() - before >= 25
        agent.clear()
        marks = agent.wait(lambda: len(agent.events("mark")) == 2 and agent.events("mark"), what="mark two")
        assert [m["mark"]["name"] for m in marks] == ["one", "two"]
        # stop_stream: stop goes out, the WebSocket closes, the leg stays up
        assert api.action(leg_sid, action="stop_stream", stream_sid=sid).status_code == 202
        agent.wait(agent.closed.is_set, what="the close")
        assert agent.frames[-1]["event"] == "stop"
        [stopped] = wait_event(api, leg_sid, "stream_stopped")
        assert (stopped["stream_sid"], stopped["reason"]) == (sid, "requested")
        # what the agent sent (the far end's words echoed, then the tone) is the leg's outbound recording
        [kept] = wait_event(api, leg_sid, "recording_completed")
        assert kept["direction"] == "out"
        fetched = api.http.get(kept["recording_url"])
        assert fetched.status_code == 200
        (tmp_path / "kept.wav").write_bytes(fetched.content)
        recorded = read_pcm(str(tmp_path / "kept.wav"))
        assert best_correlation(envelope(recorded), envelope(said)) > 0.7
        assert api.leg(leg_sid)["state"] == "connected"
        api.action(leg_sid, action="hangup")
    finally:
        agent.close()


def test_exotel_stream_from_create_ends_with_the_leg(world: tuple[Api, Path]) -> None:
    api, _ = world
    agent = Agent("exotel")
    try:
        stream = {"url": agent.url, "protocol": "exotel", "sample_rate": 24000, "custom_parameters": {"a": "b"}}
        leg_sid = connected_leg(api, stream=stream, sandbox_far_end={"say": "hi"})
        agent.wait(lambda: agent.media_count() >= 10, what="media")
        start = agent.events("start")[0]
        assert start["start"]["custom_parameters"] == {"a": "b"} and start["stream_sid"] == agent.sid()
        assert len(agent.events("media")[0]["media"]["payload"]) == 1280  # base64 of 960 bytes: 20 ms at 24 kHz
        # a unidirectional stream takes no media from the agent: it is closed with reason error
        assert api.action(leg_sid, action="hangup").status_code == 202
        agent.wait(agent.closed.is_set, what="the close")
        assert agent.frames[-1]["event"] == "stop"
        [stopped] = wait_event(api, leg_sid, "stream_stopped")
        assert stopped["reason"] == "hangup"
        names = [e["event_name"] for e in api.events(leg_sid)]
        assert names.count("leg_terminated") == 1 and "stream_started" in names
    finally:
        agent.close()


def test_a_dropped_or_unreachable_agent_leaves_the_leg_up(world: tuple[Api, Path]) -> None:
    api, _ = world
    leg_sid = connected_leg(api)
    nobody = f"ws://127.0.0.1:{free_port()}/"
    assert api.action(leg_sid, action="start_stream", url=nobody, bidirectional=True).status_code == 202
    [stopped] = wait_event(api, leg_sid, "stream_stopped")
    assert stopped["reason"] == "unreachable"
    agent = Agent("twilio")
    try:
        assert api.action(leg_sid, action="start_stream", url=agent.url, bidirectional=True).status_code == 202
        agent.wait(lambda: agent.events("start"), what="start")
        assert agent.connection is not None
        agent.connection.close()
        stops = wait_event(api, leg_sid, "stream_stopped", 2)
        assert stops[1]["reason"] == "remote_closed"
        assert api.leg(leg_sid)["state"] == "connected"
        again = api.action(leg_sid, action="start_stream", url=agent.url, bidirectional=True)
        assert again.status_code == 202, again.text
        wait_event(api, leg_sid, "stream_started", 2)
        assert api.action(leg_sid, action="start_stream", url=agent.url, bidirectional=True).status_code == 409
    finally:
        api.action(leg_sid, action="hangup")
        agent.close()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "start_stream", "url": "ws://127.0.0.1:9/", "stream_sid": "MZ1"}, "stream_sid"),
        ({"action": "start_stream", "url": "ws://127.0.0.1:9/", "bogus": 1}, "bogus"),
        ({"action": "start_stream", "url": "http://127.0.0.1:9/"}, "url"),
        ({"action": "start_stream", "url": "ws://127.0.0.1:9/", "sample_rate": 16000}, "sample_rate"),
        ({"action": "start_stream", "url": "ws://127.0.0.1:9/", "protocol": "vonage"}, "protocol"),
        ({"action": "start_stream"}, "url"),
        ({"action": "stop_stream"}, "stream_sid"),
        ({"action": "play", "url": "x.wav", "bidirectional": True}, "bidirectional"),
        ({"action": "answer", "stream": {"url": "ws://127.0.0.1:9/", "tracks": "both"}}, "stream.tracks"),
    ],
)
def test_stream_requests_name_what_is_wrong(world: tuple[Api, Path], body: dict[str, Any], field: str) -> None:
    api, _ = world
    leg_sid = LEGS.setdefault("leg", connected_leg(api))
    response = api.action(leg_sid, **body)
    assert response.status_code == 400, response.text
    assert field in json.dumps(response.json()["response"]["error_data"]), response.text


LEGS: dict[str, str] = {}


@pytest.mark.parametrize(
    ("stream", "field"),
    [
        ({"url": "wss://127.0.0.1:9/", "protocol": "exotel", "sample_rate": 11025}, "stream.sample_rate"),
        ({"url": "ws://8.8.8.8/agent"}, "stream.url"),  # public: audio in the clear is refused, wss:// it must be
        ({"url": "wss://169.254.169.254/"}, "stream.url"),  # metadata addresses never
        ({"url": "wss://127.0.0.1:9/", "track": "inbound_track"}, "stream.track"),
    ],
)
def test_stream_on_create_is_checked(world: tuple[Api, Path], stream: dict[str, Any], field: str) -> None:
    api, _ = world
    response = api.create_leg(HUMAN, stream=stream)
    assert response.status_code == 400, response.text
    assert response.json()["response"]["error_data"]["field"] == field, response.text


def test_answering_an_inbound_leg_with_a_stream_starts_it(world: tuple[Api, Path]) -> None:
    api, _ = world
    agent = Agent("twilio")
    try:
        incoming = api.http.post(
            api.base + "/sandbox/incoming",
            json={"from": "+919812345678", "to": "08030752400", "sandbox_far_end": {"say": "hello", "keys": "7"}},
        )
        assert incoming.status_code == 202, incoming.text
        leg_sid = incoming.json()["response"]["data"]["leg_sid"]
        answered = api.action(leg_sid, action="answer", stream={"url": agent.url, "bidirectional": True})
        assert answered.status_code == 202, answered.text
        agent.wait(lambda: agent.events("dtmf"), what="the caller's key")
        assert agent.events("start")[0]["start"]["callSid"] == leg_sid
        assert agent.events("dtmf")[0]["dtmf"]["digit"] == "7"
        api.action(leg_sid, action="hangup")
        agent.wait(agent.closed.is_set, what="the close")
    finally:
        agent.close()


def test_a_frame_over_the_size_limit_ends_the_stream_as_an_error(world: tuple[Api, Path]) -> None:
    api, _ = world
    leg_sid = connected_leg(api)
    agent = Agent("twilio")
    try:
        assert api.action(leg_sid, action="start_stream", url=agent.url, bidirectional=True).status_code == 202
        agent.wait(lambda: agent.events("start"), what="start")
        agent.send({"event": "media", "media": {"payload": "A" * (2 << 20)}})
        [stopped] = wait_event(api, leg_sid, "stream_stopped")
        assert stopped["reason"] == "error"
        assert "exceeds limit" in stopped["message"]
        assert api.leg(leg_sid)["state"] == "connected"
    finally:
        api.action(leg_sid, action="hangup")
        agent.close()


def test_a_listener_beside_an_agent_hears_the_agent_on_its_outbound_track(world: tuple[Api, Path]) -> None:
    api, _ = world
    leg_sid = connected_leg(api, sandbox_far_end={"say": "hi"})
    agent, listener = Agent("twilio"), Agent("twilio")
    try:
        assert api.action(leg_sid, action="start_stream", url=agent.url, bidirectional=True).status_code == 202
        assert api.action(leg_sid, action="start_stream", url=listener.url, track="outbound").status_code == 202
        agent.wait(lambda: agent.events("start"), what="the agent's start")
        listener.wait(lambda: listener.events("start"), what="the listener's start")
        agent.send_audio(tone(1000, 1000))
        agent.mark("said")
        agent.wait(lambda: agent.events("mark"), what="the mark after the tone")

        def heard() -> int:
            pcm = b"".join(decode_frame(f) for f in listener.events("media"))
            return int((envelope(pcm) > 1000).sum())

        assert wait_for(lambda: heard() >= 45, what="the tone on the listener's outbound track")
        media = listener.events("media")
        assert {m["media"]["track"] for m in media} == {"outbound"}
        chunks = [int(m["media"]["chunk"]) for m in media]
        assert chunks == list(range(1, len(chunks) + 1))  # one chunk per 20 ms, none twice
    finally:
        api.action(leg_sid, action="hangup")
        agent.close()
        listener.close()


def decode_frame(frame: dict[str, Any]) -> bytes:
    return g711.decode(g711.Codec.PCMU, base64.b64decode(frame["media"]["payload"]))
