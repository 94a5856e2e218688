"""Conferences on the sandbox, end to end: rules, every event (signed, in order, to a real receiver), roles,
removing and stopping (legs stay up), end_when_empty, the recording, Bandwidth bodies, restart reconciliation."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from bandwidth import models as sdk

from tests.conftest import DATABASES
from tests.events.receivers import HttpReceiver, Received, verify
from tests.legato_server import Api, LegatoServer

HUMAN = "09163816621"


def data(response: Any, status: int | None = None) -> dict[str, Any]:
    assert response.status_code == status if status else response.status_code < 300, response.text
    return response.json()["response"]["data"]


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["response"]["error_data"]


def connected_leg(api: Api, **fields: Any) -> str:
    leg = data(api.create_leg(HUMAN, **fields))
    assert api.wait_state(leg["leg_sid"], "connected")["state"] == "connected"
    return leg["leg_sid"]


def create(api: Api, **fields: Any) -> Any:
    return api.http.post(api.base + "/conferences", json={"name": "support", **fields})


def add(api: Api, cid: str, leg_sid: str, **fields: Any) -> Any:
    return api.http.post(f"{api.base}/conferences/{cid}/participants", json={"leg_sid": leg_sid, **fields})


def act(api: Api, cid: str, leg_sid: str, action: str) -> Any:
    return api.http.post(f"{api.base}/conferences/{cid}/participants/{leg_sid}/actions", json={"action": action})


def stop(api: Api, cid: str) -> Any:
    return api.http.post(f"{api.base}/conferences/{cid}/actions", json={"action": "stop"})


def get(api: Api, cid: str) -> dict[str, Any]:
    return data(api.http.get(f"{api.base}/conferences/{cid}"))


def stream(receiver: HttpReceiver, cid: str, last: str, secret: str) -> list[dict[str, Any]]:
    """The conference's delivered events once `last` arrived, each verified, in arrival order (a redelivery
    after a crash, same webhook-id, counted once: delivery is at least once). Left alone: requests about
    anything else (an ephemeral port may have served another test's receiver before) and bodies cut short
    (a server killed while it sent)."""

    def mine(got: list[Received]) -> list[dict[str, Any]]:
        whole = [r for r in got if _json(r.body) is not None]
        once = {r.headers.get("webhook-id"): r for r in reversed(whole)}  # the first arrival of each id
        ours = [r for r in whole if once[r.headers.get("webhook-id")] is r and _sid(r.payload) == cid]
        return [verify(secret, r) for r in ours]

    receiver.wait_for(lambda got: any(_name(p) == last for p in mine(got)))
    return mine(receiver.accepted())


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _name(p: dict[str, Any]) -> str:
    return p.get("event_name") or p["eventType"]


def _sid(p: dict[str, Any]) -> str | None:
    if "event_data" in p:
        return (p["event_data"].get("data") or {}).get("conference_sid")
    return p.get("conferenceId")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("conferences")
    server = LegatoServer(
        workdir=workdir,
        database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
        args=["--dc", "101=nso-a", "--dc", "102=nso-c"],
        env={"LEGATO_EVENTS_BACKOFF_BASE": "1", "LEGATO_EVENTS_BACKOFF_MAX": "5"},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server: LegatoServer) -> Api:
    return Api(server, server.create_account())


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    made = HttpReceiver()
    yield made
    made.close()


def test_full_flow_every_event_signed_in_order(api: Api, receiver: HttpReceiver) -> None:
    a, b, c, d = (connected_leg(api, requested_dc_code="101") for _ in range(4))
    conf = data(create(api, conference_event_endpoint=receiver.url, record=True, end_when_empty=False), 201)
    cid = conf["conference_sid"]
    assert (conf["state"], conf["participants"], conf["max_participants"]) == ("active", [], 50)
    data(add(api, cid, a), 201)
    data(add(api, cid, b, muted=True), 201)
    view = data(add(api, cid, c, role="coach", coach_leg_sid=a), 201)
    assert [(p["leg_sid"], p["role"], p["muted"]) for p in view["participants"]] == [
        (a, "participant", False),
        (b, "participant", True),
        (c, "coach", False),
    ]
    data(add(api, cid, d, role="listener", hold=True), 201)
    assert data(act(api, cid, b, "unmute"), 202)["participants"][1]["muted"] is False
    data(act(api, cid, d, "unhold"), 202)
    data(act(api, cid, b, "remove"), 202)
    assert api.leg(b)["state"] == "connected"  # removing leaves the leg up
    api.action(d, action="hangup")
    api.wait_terminal(d)
    stopped = data(stop(api, cid), 202)
    assert (stopped["state"], stopped["end_reason"]) == ("completed", "stopped")
    assert {api.leg(x)["state"] for x in (a, b, c)} == {"connected"}
    assert error(stop(api, cid), 409)["field"] == "conference_sid"

    events = stream(receiver, cid, "conference_completed", api.account.webhook_secret)
    names = [
        (p["event_name"], p["event_data"]["data"].get("leg_sid"), p["event_data"]["data"].get("reason")) for p in events
    ]
    assert names == [
        ("conference_created", None, None),
        ("participant_joined", a, None),
        ("participant_joined", b, None),
        ("participant_joined", c, None),
        ("participant_joined", d, None),
        ("participant_updated", b, "unmute"),
        ("participant_updated", d, "unhold"),
        ("participant_left", b, "removed"),
        ("participant_left", d, "leg_ended"),
        ("participant_left", a, "conference_stopped"),
        ("participant_left", c, "conference_stopped"),
        ("conference_recording_completed", None, None),
        ("conference_completed", None, "stopped"),
    ]
    assert [p["sequence"] for p in events] == list(range(1, 14))
    assert len({p["event_sid"] for p in events}) == 13
    assert {p["event_type"] for p in events} == {"conference_lifecycle_event"}
    recording = events[-2]["event_data"]["data"]
    wav = api.http.get(recording["recording_url"])
    assert (wav.status_code, wav.content[:4]) == (200, b"RIFF")
    assert get(api, cid)["recording_url"] == recording["recording_url"]
    listed = data(api.http.get(f"{api.base}/conferences", params={"state": "completed"}))["conferences"]
    assert cid in [x["conference_sid"] for x in listed]
    stored = data(api.http.get(f"{api.base}/conferences/{cid}/external-events"))["events"]
    assert [e["event_sid"] for e in stored] == [p["event_sid"] for p in events]

    again = data(create(api), 201)["conference_sid"]  # stopped: its legs are free for another conference
    data(add(api, again, a), 201)
    stop(api, again)
    for leg in (a, b, c):
        api.action(leg, action="hangup")


def test_end_when_empty_and_bandwidth_bodies(api: Api, receiver: HttpReceiver) -> None:
    a, b = (connected_leg(api, requested_dc_code="101", custom_param="queue-7") for _ in range(2))
    cid = data(create(api, conference_event_endpoint=receiver.url, event_format="bandwidth", record=True), 201)[
        "conference_sid"
    ]
    add(api, cid, a)
    add(api, cid, b)
    data(act(api, cid, a, "mute"), 202)  # no Bandwidth counterpart: kept, not delivered
    api.action(a, action="hangup")
    data(act(api, cid, b, "remove"), 202)  # the last one left: end_when_empty completes it
    events = stream(receiver, cid, "conferenceCompleted", api.account.webhook_secret)
    assert [(p["eventType"], p.get("callId")) for p in events] == [
        ("conferenceCreated", None),
        ("conferenceMemberJoin", a),
        ("conferenceMemberJoin", b),
        ("conferenceMemberExit", a),
        ("conferenceMemberExit", b),
        ("conferenceRecordingAvailable", None),
        ("conferenceCompleted", None),
    ]
    models = {
        "conferenceCreated": sdk.ConferenceCreatedCallback,
        "conferenceMemberJoin": sdk.ConferenceMemberJoinCallback,
        "conferenceMemberExit": sdk.ConferenceMemberExitCallback,
        "conferenceCompleted": sdk.ConferenceCompletedCallback,
        "conferenceRecordingAvailable": sdk.ConferenceRecordingAvailableCallback,
    }
    for body in events:
        parsed = models[body["eventType"]].from_dict(body)
        assert (parsed.conference_id, parsed.name) == (cid, "support")
    join = sdk.ConferenceMemberJoinCallback.from_dict(events[1])
    assert (join.call_id, join.var_from, join.tag) == (a, "+918030752400", "queue-7")
    rec = sdk.ConferenceRecordingAvailableCallback.from_dict(events[5])
    assert (rec.channels, rec.status, rec.file_format.value) == (1, "complete", "wav")
    assert api.http.get(rec.media_url).status_code == 200
    view = get(api, cid)
    assert (view["state"], view["end_reason"]) == ("completed", "empty")
    api.action(b, action="hangup")


def test_rules(api: Api, server: LegatoServer) -> None:
    a, b, c, d = (connected_leg(api, requested_dc_code="101") for _ in range(4))
    far = connected_leg(api, requested_dc_code="102")
    for body, field in (
        ({}, "name"),
        ({"name": "x", "max_participants": 1}, "max_participants"),
        ({"name": "x", "event_format": "nope"}, "event_format"),
        ({"name": "x", "record": "yes"}, "record"),
    ):
        assert error(api.http.post(api.base + "/conferences", json=body), 400)["field"] == field
    cid = data(create(api, max_participants=2), 201)["conference_sid"]
    assert error(add(api, cid, a, role="boss"), 400)["field"] == "role"
    assert error(add(api, cid, a, role="coach"), 400)["field"] == "coach_leg_sid"
    assert error(add(api, cid, a, coach_leg_sid=b), 400)["field"] == "coach_leg_sid"
    assert error(add(api, cid, "0ERnNUi0yWCJDlVdMw1xNzIrmSA00000"), 404)["field"] == "leg_sid"
    data(add(api, cid, a), 201)
    assert "already in conference" in error(add(api, cid, a), 409)["message"]
    assert (
        "co-located" in error(add(api, cid, far), 409)["message"]
        or "media engine" in error(add(api, cid, far), 409)["message"]
    )
    assert "not in this conference" in error(add(api, cid, b, role="coach", coach_leg_sid=c), 409)["message"]
    data(add(api, cid, b), 201)
    assert "full" in error(add(api, cid, c), 409)["message"]
    bridged = api.http.post(api.base + "/bridges", json={"leg_sids": [a, c]})
    assert "already in conference" in error(bridged, 409)["message"]
    other = data(create(api), 201)["conference_sid"]
    assert "already in conference" in error(add(api, other, a), 409)["message"]
    bridge = data(api.http.post(api.base + "/bridges", json={"leg_sids": [c, d]}))
    assert "already in bridge" in error(add(api, other, c), 409)["message"]
    api.http.post(f"{api.base}/bridges/{bridge['bridge_sid']}/actions", json={"action": "stop"})
    assert error(act(api, cid, c, "mute"), 404)["field"] == "leg_sid"
    assert error(act(api, cid, a, "shout"), 400)["field"] == "action"

    stranger = Api(server, server.create_account(exophone="08030752401"))
    assert error(stranger.http.get(f"{stranger.base}/conferences/{cid}"), 404)["field"] == "conference_sid"
    mine = data(create(stranger), 201)["conference_sid"]
    assert error(add(stranger, mine, c), 404)["field"] == "leg_sid"  # another account's leg does not exist
    assert error(stop(stranger, cid), 404)["field"] == "conference_sid"

    api.action(b, action="hangup")
    api.wait_terminal(b)
    assert "terminal" in error(add(api, other, b), 409)["message"]
    stop(api, cid)
    stop(api, other)
    for leg in (a, c, d, far):
        api.action(leg, action="hangup")


@pytest.mark.parametrize("database", DATABASES)
def test_restart_completes_what_a_crash_left(make_server: Any, receiver: HttpReceiver, database: str) -> None:
    server = make_server(database).start()
    api = Api(server, server.create_account())
    a = connected_leg(api)
    cid = data(create(api, conference_event_endpoint=receiver.url), 201)["conference_sid"]
    data(add(api, cid, a), 201)
    server.stop(signal.SIGKILL)
    server.start()
    events = stream(receiver, cid, "conference_completed", api.account.webhook_secret)
    assert [(p["event_name"], p["event_data"]["data"].get("reason")) for p in events] == [
        ("conference_created", None),
        ("participant_joined", None),
        ("participant_left", "platform_restart"),
        ("conference_completed", "platform_restart"),
    ]
    assert get(api, cid)["state"] == "completed"


def test_cli(api: Api, server: LegatoServer) -> None:
    a, b = (connected_leg(api, requested_dc_code="101") for _ in range(2))
    creds = [
        "--url",
        server.url,
        "--account",
        api.account.account_sid,
        "--api-key",
        api.account.api_key,
        "--api-token",
        api.account.api_token,
        "--json",
    ]

    def cli(*args: str) -> Any:
        return json.loads(server.cli("conferences", *args, *creds))

    cid = cli("create", "floor-3", "--record", "--keep-when-empty")["conference_sid"]
    cli("add", cid, a)
    cli("add", cid, b, "--role", "coach", "--coach", a)
    assert cli("mute", cid, a)["participants"][0]["muted"] is True
    assert cli("mute", cid, b, "--hold")["participants"][1]["hold"] is True
    assert cli("remove", cid, b)["participants"][1]["state"] == "left"
    shown = cli("show", cid)
    assert (shown["name"], shown["record"], shown["end_when_empty"], shown["participant_count"]) == (
        "floor-3",
        True,
        False,
        1,
    )
    assert cid in [c["conference_sid"] for c in cli("list", "--state", "active")]
    assert cli("stop", cid)["state"] == "completed"
    for leg in (a, b):
        api.action(leg, action="hangup")
