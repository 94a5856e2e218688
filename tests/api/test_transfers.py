"""Transfers on the sandbox, end to end through the API: blind (taken, refused by the far end, target busy),
attended (bridged, target fails), validation, and the events each sends where it sends them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.test_bridges import bridge, connected_leg, data, error, names
from tests.dialects.support import validate
from tests.events.receivers import HttpReceiver
from tests.legato_server import Api, LegatoServer

TARGET = "09163810042"  # any number: answers
BUSY = "09163810001"
REFUSES = "09163810010"  # the sandbox far end that refuses REFER


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("transfers")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(server: LegatoServer) -> Api:
    return Api(server, server.create_account())


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def transfer(api: Api, leg_sid: str, **body: Any) -> Any:
    return api.action(leg_sid, action="transfer", **body)


def wait_events(api: Api, leg_sid: str, name: str, seconds: float = 20) -> list[dict[str, Any]]:
    return api.wait_event(leg_sid, name, seconds=seconds)


def test_blind_transfer_taken_ends_the_leg_and_reports_to_the_transfer_endpoint(
    api: Api, receiver: HttpReceiver
) -> None:
    leg_url, transfer_url = (receiver.url.replace("/events", path) for path in ("/leg", "/transfer"))
    leg = connected_leg(api, leg_event_endpoint=leg_url)
    accepted = transfer(api, leg["leg_sid"], to=TARGET, mode="blind", transfer_event_endpoint=transfer_url)
    assert accepted.status_code == 202, accepted.text
    ended = api.wait_terminal(leg["leg_sid"])
    assert (ended["terminal_status"], ended["hangup_cause"], ended["hangup_source"]) == (
        "completed",
        "transferred",
        "platform",
    )
    events = api.events(leg["leg_sid"])
    assert names(events) == [
        "leg_connecting",
        "leg_ringing",
        "leg_answered",
        "transfer_answered",
        "transfer_completed",
        "leg_terminated",
    ]
    assert [e["sequence"] for e in events] == list(range(1, 7))  # one sequence: the leg's own
    assert [e["endpoint"] for e in events] == [leg_url] * 3 + [transfer_url] * 2 + [leg_url]
    receiver.wait_terminated(leg["leg_sid"])
    delivered = [
        (r.path, r.payload) for r in receiver.accepted() if r.payload["event_data"]["data"]["leg_sid"] == leg["leg_sid"]
    ]
    assert [(path, p["event_name"], p["sequence"]) for path, p in delivered] == [
        ("/leg", "leg_connecting", 1),
        ("/leg", "leg_ringing", 2),
        ("/leg", "leg_answered", 3),
        ("/transfer", "transfer_answered", 4),
        ("/transfer", "transfer_completed", 5),
        ("/leg", "leg_terminated", 6),
    ]
    for _, payload in delivered:
        validate("leg_event.json", payload)  # Legato's own event shape, transfer events included
    completed = delivered[4][1]["event_data"]["data"]
    assert (completed["transfer_to"], completed["transfer_mode"]) == (TARGET, "blind")


@pytest.mark.parametrize(("leg_number", "to", "code"), [(REFUSES, TARGET, 603), ("09163816621", BUSY, 486)])
def test_blind_transfer_refused_or_failed_leaves_the_leg_up(api: Api, leg_number: str, to: str, code: int) -> None:
    leg = data(api.create_leg(leg_number))
    assert api.wait_state(leg["leg_sid"], "connected")["state"] == "connected"
    assert transfer(api, leg["leg_sid"], to=to).status_code == 202
    events = wait_events(api, leg["leg_sid"], "transfer_failed")
    assert names(events)[-1] == "transfer_failed"
    failed = events[-1]["payload"]["event_data"]
    assert failed["data"]["sip_code"] == code and failed["error"]["error_code"] in (17, 21)
    assert api.leg(leg["leg_sid"])["state"] == "connected"
    again = transfer(api, leg["leg_sid"], to=TARGET, mode="attended")  # free for another transfer
    assert again.status_code == 202, again.text
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202
    ended = api.wait_terminal(leg["leg_sid"])
    assert ended["hangup_cause"] == "hangup_requested"
    final = names(api.events(leg["leg_sid"]))
    assert final[-2:] == ["transfer_failed", "leg_terminated"] and final.count("leg_terminated") == 1


def test_attended_transfer_bridges_the_new_leg_and_frees_the_old_bridge(api: Api) -> None:
    customer = connected_leg(api)
    agent = connected_leg(api, reference_leg_sid=customer["leg_sid"])
    first = data(bridge(api, customer["leg_sid"], agent["leg_sid"], end_on_exit=True))
    accepted = transfer(api, customer["leg_sid"], to=TARGET, mode="attended")
    assert accepted.status_code == 202, accepted.text
    events = wait_events(api, customer["leg_sid"], "transfer_completed")
    tail = names(events)[3:]
    assert tail == [
        "leg_joined_bridge",
        "transfer_answered",
        "leg_left_bridge",
        "bridge_completed",
        "leg_joined_bridge",
        "transfer_completed",
    ], tail
    completed = events[-1]["payload"]["event_data"]["data"]
    new_sid = completed["transfer_leg_sid"]
    second = events[-2]["payload"]["event_data"]["data"]["bridge_sid"]
    assert second != first["bridge_sid"]
    new_leg = api.leg(new_sid)
    assert (new_leg["state"], new_leg["contact_uri"], new_leg["call_sid"]) == (
        "connected",
        TARGET,
        customer["call_sid"],
    )
    assert api.leg(agent["leg_sid"])["state"] == "connected"  # the agent left the first bridge, still up
    assert names(api.events(agent["leg_sid"]))[-2:] == ["leg_left_bridge", "bridge_completed"]
    # the new leg hangs up: the bridge ends (end_on_exit) and the customer with it
    assert api.action(new_sid, action="hangup").status_code == 202
    assert api.wait_terminal(customer["leg_sid"])["hangup_cause"] == "bridge_ended"
    tail = names(api.events(customer["leg_sid"]))[-3:]
    assert tail == ["leg_left_bridge", "bridge_completed", "leg_terminated"]
    assert api.events(customer["leg_sid"])[-2]["payload"]["event_data"]["data"]["bridge_role"] == "initiator"
    assert api.action(agent["leg_sid"], action="hangup").status_code == 202


def test_attended_transfer_to_a_busy_number_leaves_the_leg_as_it_was(api: Api) -> None:
    leg = connected_leg(api)
    assert transfer(api, leg["leg_sid"], to=BUSY, mode="attended").status_code == 202
    events = wait_events(api, leg["leg_sid"], "transfer_failed")
    failed = events[-1]["payload"]["event_data"]
    assert names(events)[3:] == ["transfer_failed"]
    assert (failed["error"]["error_code"], failed["data"]["sip_code"]) == (17, 486)
    new_leg = api.leg(failed["data"]["transfer_leg_sid"])
    assert (new_leg["terminal_status"], new_leg["contact_uri"]) == ("busy", BUSY)
    assert api.leg(leg["leg_sid"])["state"] == "connected"
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202


def test_hanging_up_during_an_attended_transfer_abandons_the_new_leg(api: Api) -> None:
    leg = connected_leg(api)
    assert transfer(api, leg["leg_sid"], to=TARGET, mode="attended").status_code == 202
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202
    events = api.events(api.wait_terminal(leg["leg_sid"])["leg_sid"])
    assert names(events)[-2:] == ["transfer_failed", "leg_terminated"]
    new_sid = events[-2]["payload"]["event_data"]["data"]["transfer_leg_sid"]
    new_leg = api.wait_terminal(new_sid)
    assert (new_leg["terminal_status"], new_leg["hangup_cause"]) == ("canceled", "transfer_abandoned")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "to"),
        ({"to": "not a number"}, 400, "to"),
        ({"to": TARGET, "mode": "warm"}, 400, "mode"),
        ({"to": TARGET, "transfer_event_endpoint": "ftp://x/y"}, 400, "transfer_event_endpoint"),
        ({"to": TARGET, "transfer_event_endpoint": "http://10.1.2.3/x"}, 400, "transfer_event_endpoint"),
    ],
)
def test_bad_transfers_name_the_field(api: Api, body: dict[str, Any], status: int, field: str) -> None:
    leg = connected_leg(api)
    response = transfer(api, leg["leg_sid"], **body)
    assert response.status_code == status, response.text
    assert field in response.text
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202


def test_transfer_needs_a_connected_leg_and_one_at_a_time(api: Api) -> None:
    ringing = data(api.create_leg("09163810002"))
    assert error(transfer(api, ringing["leg_sid"], to=TARGET), 409)["code"] == "conflict"
    leg = connected_leg(api)
    assert transfer(api, leg["leg_sid"], to=TARGET, mode="attended").status_code == 202
    assert "already being transferred" in error(transfer(api, leg["leg_sid"], to=TARGET), 409)["message"]
    for sid in (ringing["leg_sid"], leg["leg_sid"]):
        api.action(sid, action="hangup")


def test_bandwidth_applications_get_the_transfer_callbacks(api: Api) -> None:
    models = pytest.importorskip("bandwidth.models")
    blind = connected_leg(api, event_format="bandwidth")
    assert transfer(api, blind["leg_sid"], to=TARGET).status_code == 202
    api.wait_terminal(blind["leg_sid"])
    attended = connected_leg(api, event_format="bandwidth")
    assert transfer(api, attended["leg_sid"], to=BUSY, mode="attended").status_code == 202
    events = wait_events(api, attended["leg_sid"], "transfer_failed")
    bodies = [e["payload"] for e in api.events(blind["leg_sid"]) if e["endpoint"]]  # those Bandwidth has
    assert [b["eventType"] for b in bodies] == ["answer", "transferAnswer", "transferComplete", "disconnect"]
    assert (bodies[2]["transferTo"], bodies[3]["cause"]) == ("+919163810042", "hangup")
    failed = events[-1]["payload"]
    assert (failed["eventType"], failed["cause"]) == ("transferComplete", "busy")
    assert models.TransferCompleteCallback.from_dict(failed).cause == "busy"
    [new_leg] = [
        leg
        for leg in data(api.http.get(api.base + "/legs", params={"limit": 10}))["legs"]
        if leg["reference_leg_sid"] == attended["leg_sid"]
    ]  # the new leg refers to the transferred one
    new_leg = api.wait_terminal(new_leg["leg_sid"])
    disconnect = api.events(new_leg["leg_sid"])[-1]["payload"]
    assert (disconnect["eventType"], disconnect["parentCallId"], disconnect["cause"]) == (
        "transferDisconnect",
        attended["leg_sid"],
        "busy",
    )
    assert models.TransferDisconnectCallback.from_dict(disconnect).parent_call_id == attended["leg_sid"]
    assert api.action(attended["leg_sid"], action="hangup").status_code == 202


def test_cli_transfers_a_leg(api: Api, server: LegatoServer) -> None:
    leg = connected_leg(api)
    credentials = [
        "--url",
        server.url,
        "--account",
        api.account.account_sid,
        "--api-key",
        api.account.auth[0],
        "--api-token",
        api.account.auth[1],
    ]
    shown = json.loads(
        server.cli("legs", "transfer", leg["leg_sid"], "--to", TARGET, "--mode", "attended", "--json", *credentials)
    )
    assert shown["leg_sid"] == leg["leg_sid"]
    assert "transfer_completed" in names(wait_events(api, leg["leg_sid"], "transfer_completed"))
    assert api.action(leg["leg_sid"], action="hangup").status_code == 202
    api.wait_terminal(leg["leg_sid"])
    with pytest.raises(RuntimeError, match=r"409.*terminal"):  # the CLI says why, and exits 1
        server.cli("legs", "transfer", leg["leg_sid"], "--to", TARGET, *credentials)


def test_blind_transfer_of_a_bridged_leg_leaves_the_other_leg_up(api: Api) -> None:
    customer = connected_leg(api)
    agent = connected_leg(api, reference_leg_sid=customer["leg_sid"])
    data(bridge(api, customer["leg_sid"], agent["leg_sid"], end_on_exit=True))
    assert transfer(api, customer["leg_sid"], to=TARGET).status_code == 202
    assert api.wait_terminal(customer["leg_sid"])["hangup_cause"] == "transferred"
    assert names(api.events(customer["leg_sid"]))[-4:] == [
        "transfer_answered",
        "transfer_completed",
        "leg_left_bridge",
        "leg_terminated",
    ]
    events = wait_events(api, agent["leg_sid"], "bridge_completed")
    assert names(events)[-2:] == ["leg_left_bridge", "bridge_completed"]
    assert events[-1]["payload"]["event_data"]["data"]["ended_by_leg_sid"] == customer["leg_sid"]
    assert api.leg(agent["leg_sid"])["state"] == "connected"  # the agent is free for the next call
    assert api.action(agent["leg_sid"], action="hangup").status_code == 202


def test_attended_transfer_of_a_leg_in_a_conference_takes_it_out_first(api: Api) -> None:
    customer = connected_leg(api)
    agent = connected_leg(api, reference_leg_sid=customer["leg_sid"])
    room = data(api.http.post(api.base + "/conferences", json={"name": "transfer-room"}))["conference_sid"]
    for leg in (customer, agent):
        joined = api.http.post(f"{api.base}/conferences/{room}/participants", json={"leg_sid": leg["leg_sid"]})
        assert joined.status_code == 201, joined.text
    assert transfer(api, customer["leg_sid"], to=TARGET, mode="attended").status_code == 202
    events = wait_events(api, customer["leg_sid"], "transfer_completed")
    assert names(events)[-3:] == ["transfer_answered", "leg_joined_bridge", "transfer_completed"]
    conference = data(api.http.get(f"{api.base}/conferences/{room}"))
    assert conference["state"] == "active"  # the agent is still in it
    left = {p["leg_sid"]: p["left_reason"] for p in conference["participants"] if p["date_left"]}
    assert left == {customer["leg_sid"]: "transferred"}
    stored = data(api.http.get(f"{api.base}/conferences/{room}/external-events"))["events"]
    assert [(e["event_name"], e["payload"]["event_data"]["data"].get("reason")) for e in stored][-1] == (
        "participant_left",
        "transferred",
    )
    new_sid = events[-1]["payload"]["event_data"]["data"]["transfer_leg_sid"]
    for sid in (new_sid, agent["leg_sid"]):
        assert api.action(sid, action="hangup").status_code == 202
