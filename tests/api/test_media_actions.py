"""Media actions on live legs through the HTTP API, on the sandbox (simulated timing, time scale 50)."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.legato_server import Api, LegatoServer

pytestmark = pytest.mark.media
HUMAN = "09163816621"  # answers after 3 s (clock); its caller keys 6621# into a gather


def write_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Api, Path]]:
    """A sandbox server with a play folder and a recordings folder; two accounts."""
    workdir = tmp_path_factory.mktemp("legato-media")
    prompts = workdir / "prompts"
    prompts.mkdir()
    write_wav(prompts / "welcome.wav", 10.0)
    env = {"LEGATO_PLAY_DIRS": json.dumps([str(prompts)]), "LEGATO_RECORDINGS_DIR": str(workdir / "rec"),
           "LEGATO_MEDIA_CACHE_DIR": str(workdir / "cache"), "LEGATO_PLAY_URL_PREFIXES": '["http://127.0.0.1:9901"]'}
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                          env=env).start()
    try:
        one = Api(server, server.create_account("--exophone", "08030752400"))
        other = Api(server, server.create_account("--exophone", "08030752401"))
        yield one, other, prompts
    finally:
        server.stop()


def connected(api: Api, number: str = HUMAN) -> str:
    leg_sid = api.create_leg(number).json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected", seconds=10)["state"] == "connected"
    return leg_sid


def wait_event(api: Api, leg_sid: str, name: str, count: int = 1, seconds: float = 10) -> list[dict[str, Any]]:
    return [e["payload"] for e in api.wait_event(leg_sid, name, count, seconds) if e["event_name"] == name]


def data(event: dict[str, Any]) -> dict[str, Any]:
    return event["event_data"]["data"]


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]


def test_play_and_say_complete_in_order(world: tuple[Api, Api, Path]) -> None:
    api, _, _ = world
    leg_sid = connected(api)
    play_id = ok(api.action(leg_sid, action="play", url="welcome.wav", loop=2))["action_result"]["play_id"]
    say_id = ok(api.action(leg_sid, action="say", text="Thanks for calling.", voice="en-gb", rate=170))[
        "action_result"]["play_id"]
    done = wait_event(api, leg_sid, "play_completed", count=2)
    assert [(data(e)["play_id"], data(e)["reason"]) for e in done] == [(play_id, "finished"), (say_id, "finished")]
    assert all(e["event_type"] == "leg_action_event" and data(e)["state"] == "connected" for e in done)
    api.action(leg_sid, action="hangup")


def test_stop_play_ends_a_prompt_looping_forever(world: tuple[Api, Api, Path]) -> None:
    api, _, prompts = world
    leg_sid = connected(api)
    play_id = ok(api.action(leg_sid, action="play", url=str(prompts / "welcome.wav"), loop=0))[
        "action_result"]["play_id"]
    ok(api.action(leg_sid, action="stop_play"))
    [done] = wait_event(api, leg_sid, "play_completed")
    assert (data(done)["play_id"], data(done)["reason"]) == (play_id, "stopped")
    api.action(leg_sid, action="hangup")


@pytest.mark.parametrize(("fields", "digits", "reason", "keys"), [
    ({}, "6621", "finish_on_key", "6621#"),
    ({"num_digits": 2}, "66", "num_digits", "66"),
    ({"finish_on_key": "", "timeout": 1}, "6621#", "timeout", "6621#"),
])
def test_gather_collects_the_sandbox_callers_keys(world: tuple[Api, Api, Path], fields: dict[str, Any],
                                                  digits: str, reason: str, keys: str) -> None:
    api, _, _ = world
    leg_sid = connected(api)
    ok(api.action(leg_sid, action="gather", **fields))
    [done] = wait_event(api, leg_sid, "gather_completed")
    assert (data(done)["digits"], data(done)["reason"]) == (digits, reason)
    pressed = [data(e)["digit"] for e in wait_event(api, leg_sid, "dtmf_received", count=len(keys))]
    assert "".join(pressed) == keys
    api.action(leg_sid, action="hangup")


def test_gather_times_out_when_nobody_keys(world: tuple[Api, Api, Path]) -> None:
    api, _, _ = world
    leg_sid = connected(api, "09163810009")
    ok(api.action(leg_sid, action="gather", timeout=2))
    [done] = wait_event(api, leg_sid, "gather_completed")
    assert (data(done)["digits"], data(done)["reason"]) == ("", "timeout")
    api.action(leg_sid, action="hangup")


def test_recording_is_served_to_its_account_only(world: tuple[Api, Api, Path]) -> None:
    api, other, _ = world
    leg_sid = connected(api)
    ok(api.action(leg_sid, action="start_recording", direction="in"))
    assert api.action(leg_sid, action="start_recording").status_code == 409
    ok(api.action(leg_sid, action="say", text="twenty-odd characters long"))  # 3 started tens: 6 s of the clock
    wait_event(api, leg_sid, "play_completed")  # so the recording has run at least that long
    stopped = ok(api.action(leg_sid, action="stop_recording"))["action_result"]
    [done] = wait_event(api, leg_sid, "recording_completed")
    url = data(done)["recording_url"]
    assert data(done)["duration_ms"] == stopped["duration_ms"] >= 6000
    assert data(done)["direction"] == "in" and data(done)["reason"] == "stopped"
    assert url.startswith(api.server.url + api.base + "/recordings/")
    assert api.leg(leg_sid)["recording_url"] == url
    fetched = api.http.get(url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(fetched.content)) as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() // 8 == stopped["duration_ms"]
    assert httpx.get(url).status_code == 401
    elsewhere = url.replace(api.account.account_sid, other.account.account_sid)
    assert other.http.get(elsewhere).status_code == 404
    assert other.http.get(url).status_code in (401, 403, 404)
    telefonie = api.http.get(f"{api.base}/legs/{leg_sid}", params={"format": "telefonie"}).json()
    assert telefonie["recording_url"] == url
    api.action(leg_sid, action="hangup")


def test_recording_running_at_hangup_completes_after_the_end(world: tuple[Api, Api, Path]) -> None:
    api, _, _ = world
    leg_sid = connected(api)
    ok(api.action(leg_sid, action="start_recording"))
    ok(api.action(leg_sid, action="hangup"))
    [done] = wait_event(api, leg_sid, "recording_completed")
    assert data(done)["reason"] == "hangup" and data(done)["state"] == "terminal"
    names = [e["event_name"] for e in api.events(leg_sid)]
    assert names[-2:] == ["leg_terminated", "recording_completed"]


def test_send_digits_and_the_simple_actions(world: tuple[Api, Api, Path]) -> None:
    api, _, _ = world
    leg_sid = connected(api)
    ok(api.action(leg_sid, action="send_digits", digits="12#"))
    [sent] = wait_event(api, leg_sid, "digits_sent")
    assert data(sent)["digits"] == "12#"
    for action in ("mute", "unmute", "hold", "unhold"):
        ok(api.action(leg_sid, action=action))
    api.action(leg_sid, action="hangup")


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"action": "play"}, "url", "needs url"),
    ({"action": "play", "url": "/etc/passwd"}, "url", "allowed"),
    ({"action": "play", "url": "../legato.db"}, "url", "allowed"),
    ({"action": "play", "url": "https://example.com/a.wav"}, "url", "prefix"),
    ({"action": "play", "url": "http://127.0.0.1:9901.evil.example/x.wav"}, "url", "not a valid URL"),
    ({"action": "play", "url": "http://127.0.0.1:9901@127.0.0.3:9/admin/secret.wav"}, "url", "prefix"),
    ({"action": "play", "url": "welcome.wav", "text": "hi"}, "text", "does not apply"),
    ({"action": "play", "url": "welcome.wav", "loop": -1}, "loop", "greater"),
    ({"action": "say"}, "text", "needs text"),
    ({"action": "say", "text": "hi", "voice": "en us; rm"}, "voice", "pattern"),
    ({"action": "say", "text": "hi", "rate": 20}, "rate", "greater"),
    ({"action": "start_recording", "direction": "sideways"}, "direction", "in"),
    ({"action": "gather", "num_digits": 0}, "num_digits", "greater"),
    ({"action": "gather", "timeout": "soon"}, "timeout", "number"),
    ({"action": "gather", "finish_on_key": "##"}, "finish_on_key", "pattern"),
    ({"action": "send_digits"}, "digits", "needs digits"),
    ({"action": "send_digits", "digits": "12x"}, "digits", "pattern"),
    ({"action": "mute", "digits": "1"}, "digits", "does not apply"),
])
def test_bad_media_action_is_400_naming_the_field(world: tuple[Api, Api, Path], body: dict[str, Any], field: str,
                                                   words: str) -> None:
    api, _, _ = world
    leg_sid = connected(api)
    response = api.action(leg_sid, **body)
    assert response.status_code == 400, response.text
    error = response.json()["response"]["error_data"]
    assert error["field"] == field, error
    assert words.lower() in error["message"].lower(), error
    api.action(leg_sid, action="hangup")


def test_media_action_on_a_leg_not_connected_is_409(world: tuple[Api, Api, Path]) -> None:
    api, _, _ = world
    ringing = api.create_leg("09163810002").json()["response"]["data"]["leg_sid"]
    api.wait_state(ringing, "ringing")
    response = api.action(ringing, action="say", text="hello")
    assert response.status_code == 409 and "connected" in response.text
    api.action(ringing, action="hangup")
    ended = api.wait_terminal(ringing)
    assert api.action(ended["leg_sid"], action="gather").status_code == 409
