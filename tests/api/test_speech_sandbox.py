"""Speech on the sandbox through the HTTP API: gather input speech answered by the leg's sandbox_speech,
transcribed recordings, Bandwidth's transcriptionAvailable, and the speech fields' validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_media_actions import connected, data, ok, wait_event
from tests.legato_server import Api, LegatoServer

pytestmark = pytest.mark.media
HUMAN = "09163816621"  # answers; its caller keys 6621# into a digit gather
SAID = "Check my balance"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    workdir = tmp_path_factory.mktemp("legato-speech")
    env = {"LEGATO_RECORDINGS_DIR": str(workdir / "rec"), "LEGATO_MEDIA_CACHE_DIR": str(workdir / "cache")}
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}", env=env).start()
    try:
        yield Api(server, server.create_account("--exophone", "08030752400"))
    finally:
        server.stop()


def pick(found: dict[str, Any]) -> dict[str, Any]:
    """A gather result's own fields (the event data also carries the leg)."""
    return {k: found[k] for k in ("digits", "reason", "speech_result", "confidence") if k in found}


def speaking_leg(api: Api, **fields: Any) -> str:
    leg_sid = api.create_leg(HUMAN, sandbox_speech=SAID, **fields).json()["response"]["data"]["leg_sid"]
    assert api.wait_state(leg_sid, "connected", seconds=10)["state"] == "connected"
    return leg_sid


@pytest.mark.parametrize(
    "fields",
    [
        {"input": "speech"},
        {"input": "dtmf speech", "speech_timeout": 2, "hints": "balance, payment", "language": "en-GB"},
    ],
)
def test_speech_gather_hears_the_legs_sandbox_speech(api: Api, fields: dict[str, Any]) -> None:
    leg_sid = speaking_leg(api)
    ok(api.action(leg_sid, action="gather", **fields))
    [done] = wait_event(api, leg_sid, "gather_completed")
    assert pick(data(done)) == {"digits": "", "reason": "speech", "speech_result": SAID, "confidence": 1.0}
    assert not [e for e in api.events(leg_sid) if e["event_name"] == "dtmf_received"]
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)


def test_speech_gather_without_sandbox_speech_times_out(api: Api) -> None:
    leg_sid = connected(api, HUMAN)
    ok(api.action(leg_sid, action="gather", input="speech", timeout=1))
    [done] = wait_event(api, leg_sid, "gather_completed")
    assert pick(data(done)) == {"digits": "", "reason": "timeout"}
    ok(api.action(leg_sid, action="gather", input="dtmf speech"))  # no speech: the caller keys digits
    [_, keyed] = wait_event(api, leg_sid, "gather_completed", count=2)
    assert (data(keyed)["digits"], data(keyed)["reason"]) == ("6621", "finish_on_key")
    api.action(leg_sid, action="hangup")


def test_transcribed_recording_reports_its_transcription(api: Api) -> None:
    leg_sid = speaking_leg(api)
    recording_id = ok(api.action(leg_sid, action="start_recording", transcribe=True))["action_result"]["recording_id"]
    ok(api.action(leg_sid, action="stop_recording"))
    [recorded] = wait_event(api, leg_sid, "recording_completed")
    [done] = wait_event(api, leg_sid, "transcription_completed")
    found = data(done)
    assert found["recording_id"] == recording_id == data(recorded)["recording_id"]
    assert found["recording_url"] == data(recorded)["recording_url"]
    assert (found["status"], found["text"], found["confidence"]) == ("completed", SAID, 1.0)
    ok(api.action(leg_sid, action="start_recording"))  # not transcribed: no second transcription
    api.action(leg_sid, action="hangup")
    wait_event(api, leg_sid, "recording_completed", count=2)
    api.wait_terminal(leg_sid)
    assert len([e for e in api.events(leg_sid) if e["event_name"] == "transcription_completed"]) == 1


def test_bandwidth_leg_gets_transcription_available(api: Api) -> None:
    leg_sid = speaking_leg(api, event_format="bandwidth", custom_param="t1")
    ok(api.action(leg_sid, action="start_recording", transcribe=True))
    api.action(leg_sid, action="hangup")  # the recording ends with the call, then is transcribed
    [done] = wait_event(api, leg_sid, "transcription_completed")
    assert done["eventType"] == "transcriptionAvailable" and done["callId"] == leg_sid and done["tag"] == "t1"
    assert done["transcription"] == {"text": SAID, "confidence": 1.0}
    assert done["mediaUrl"].endswith(".wav") and done["recordingId"].startswith("rec-")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"input": "voice"}, "input", "dtmf"),
        ({"hints": "a,b"}, "hints", "needs input speech"),
        ({"input": "dtmf", "speech_timeout": 2}, "speech_timeout", "needs input speech"),
        ({"input": "speech", "speech_timeout": 0}, "speech_timeout", "(0, 60]"),
        ({"input": "speech", "speech_timeout": "soon"}, "speech_timeout", "auto"),
        ({"input": "speech", "language": "fr-FR"}, "language", "not supported"),
        ({"input": "speech", "language": "english please"}, "language", "pattern"),
        ({"input": "speech", "hints": ["x"] * 501}, "hints", "at most 500"),
        ({"input": "speech", "hints": 7}, "hints", "string"),
    ],
)
def test_bad_speech_fields_are_400_naming_the_field(api: Api, body: dict[str, Any], field: str, words: str) -> None:
    leg_sid = connected(api, HUMAN)
    response = api.action(leg_sid, action="gather", **body)
    assert response.status_code == 400, response.text
    error = response.json()["response"]["error_data"]
    assert error["field"] == field, error
    assert words.lower() in error["message"].lower(), error
    bad = api.action(leg_sid, action="say", text="hi", transcribe=True)
    assert bad.status_code == 400 and bad.json()["response"]["error_data"]["field"] == "transcribe"
    api.action(leg_sid, action="hangup")


def test_sandbox_speech_is_validated(api: Api, tmp_path: Path) -> None:
    response = api.create_leg(HUMAN, sandbox_speech="")
    assert response.status_code == 400, response.text
    assert response.json()["response"]["error_data"]["field"] == "sandbox_speech"


def test_inbound_sandbox_caller_says_its_sandbox_speech(api: Api) -> None:
    response = api.http.post(
        api.base + "/sandbox/incoming", json={"from": "09163816622", "to": "08030752400", "sandbox_speech": "sales"}
    )
    assert response.status_code == 202, response.text
    leg_sid = response.json()["response"]["data"]["leg_sid"]
    ok(api.action(leg_sid, action="answer"))
    ok(api.action(leg_sid, action="gather", input="speech", hints=["sales", "support"]))
    [done] = wait_event(api, leg_sid, "gather_completed")
    assert pick(data(done)) == {"digits": "", "reason": "speech", "speech_result": "sales", "confidence": 1.0}
    api.action(leg_sid, action="hangup")
