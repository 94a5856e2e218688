"""A crash loses no accepted leg: after SIGKILL and restart every live leg ends exactly once."""

from __future__ import annotations

import signal

import pytest

from tests.conftest import DATABASES
from tests.legato_server import Api
from tests.waiting import wait_for


@pytest.mark.parametrize("database", DATABASES)
def test_sigkill_during_live_legs_then_restart_reconciles_each_once(make_server, database: str) -> None:
    server = make_server(database, time_scale=5.0).start()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    numbers = ["09163816621", "09163810002", "09163810006", "09163810004"]  # up, ringing, silent, machine
    sids = [api.create_leg(n).json()["response"]["data"]["leg_sid"] for n in numbers for _ in range(5)]
    # killed once some are connected while others ring (the second number never answers)
    wait_for(lambda: {api.leg(sid)["state"] for sid in sids}, lambda states: {"connected", "ringing"} <= states,
             seconds=30, what="legs both connected and ringing")
    server.stop(signal.SIGKILL)

    server.port = __import__("tests.legato_server", fromlist=["free_port"]).free_port()
    server.start()
    api = Api(server, api.account)
    for sid in sids:
        leg = api.leg(sid)
        assert leg["state"] == "terminal"
        assert (leg["terminal_status"], leg["hangup_cause"]) == ("failed", "platform_restart")
        events = api.events(sid)
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
        assert [e["event_name"] for e in events].count("leg_terminated") == 1
        assert events[-1]["event_name"] == "leg_terminated"

    # a second restart changes nothing: reconciliation is not repeated
    server.stop(signal.SIGKILL)
    server.start()
    for sid in sids:
        assert [e["event_name"] for e in api.events(sid)].count("leg_terminated") == 1
