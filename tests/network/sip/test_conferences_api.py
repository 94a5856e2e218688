"""A conference through the HTTP API on the real SIP network: two baresip phones mixed by the media engine,
the recording served at the recording_url of conference_recording_completed, the legs up after stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.network.sip import audio
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import BaresipControl
from tests.network.sip.test_media_legs import World, dial, media_world  # noqa: F401 (media_world: a fixture)

pytestmark = [pytest.mark.sip, pytest.mark.media]


def test_conference_mixes_records_and_keeps_legs_up(media_world: World, peers: Peers, tmp_path: Path) -> None:  # noqa: F811
    api, alice = media_world(user="alice", tone_hz=440, dump_dir=tmp_path / "alice")
    bob = peers.phone(user="bob", tone_hz=1300, dump_dir=tmp_path / "bob")
    controls = [BaresipControl(alice.extra["ctrl"]), BaresipControl(bob.extra["ctrl"])]
    try:
        a = dial(api, alice, "alice")
        assert api.wait_state(a, "connected")["state"] == "connected"
        b = dial(api, bob, "bob", reference_leg_sid=a)
        assert api.wait_state(b, "connected")["state"] == "connected"
        created = api.http.post(api.base + "/conferences", json={"name": "duo", "record": True})
        assert created.status_code == 201, created.text
        cid = created.json()["response"]["data"]["conference_sid"]
        for leg in (a, b):
            joined = api.http.post(f"{api.base}/conferences/{cid}/participants", json={"leg_sid": leg})
            assert joined.status_code == 201, joined.text
        time.sleep(2.0)  # kept: the room's mix is recorded in real time for this long
        stopped = api.http.post(f"{api.base}/conferences/{cid}/actions", json={"action": "stop"})
        assert stopped.status_code == 202, stopped.text
        events = api.http.get(f"{api.base}/conferences/{cid}/external-events").json()["response"]["data"]["events"]
        assert [e["event_name"] for e in events][-2:] == ["conference_recording_completed", "conference_completed"]
        assert {api.leg(a)["state"], api.leg(b)["state"]} == {"connected"}
        fetched = api.http.get(events[-2]["payload"]["event_data"]["data"]["recording_url"])
        assert fetched.status_code == 200
        for leg in (a, b):
            api.action(leg, action="hangup")
        for control in controls:
            control.wait_event("CALL_CLOSED", timeout=5)
    finally:
        for control in controls:
            control.close()
    room = tmp_path / "room.wav"
    room.write_bytes(fetched.content)
    assert audio.tone_share(room, 440, 0.3, 1.8) > 0.2 and audio.tone_share(room, 1300, 0.3, 1.8) > 0.2
    [bob_heard] = (tmp_path / "bob").glob("*-dec.wav")
    [alice_heard] = (tmp_path / "alice").glob("*-dec.wav")
    assert audio.tone_share(bob_heard, 440) > 0.5 and audio.tone_share(bob_heard, 1300) < 0.02
    assert audio.tone_share(alice_heard, 1300) > 0.5 and audio.tone_share(alice_heard, 440) < 0.02
