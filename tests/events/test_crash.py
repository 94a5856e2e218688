"""SIGKILL with events pending: after a restart every event is delivered and no leg's sequence has a gap."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

from tests.events.conftest import FAST_RETRIES, leg_sid_of
from tests.events.receivers import Answer, HttpReceiver, verify
from tests.legato_server import Api, LegatoServer
from tests.waiting import wait_for


def test_sigkill_with_pending_events_loses_nothing(make_server: Callable[..., LegatoServer],
                                                   receivers: Callable[..., Any]) -> None:
    accepting = False

    def respond(seen: int, headers: dict[str, str]) -> Answer:
        return Answer(200) if accepting else Answer(503)

    receiver: HttpReceiver = receivers("http", respond)
    server = make_server(env=dict(FAST_RETRIES)).start()
    account = server.create_account()
    api = Api(server, account)
    ended = [leg_sid_of(api.create_leg(n, leg_event_endpoint=receiver.url))
             for n in ["09163810007", "09163810001", "09163810003"] * 3]
    live = [leg_sid_of(api.create_leg("09163816621", leg_event_endpoint=receiver.url)) for _ in range(3)]
    for leg_sid in ended:
        assert api.wait_terminal(leg_sid)["state"] == "terminal"
    for leg_sid in live:
        assert api.wait_state(leg_sid, "connected")["state"] == "connected"
    assert receiver.received and not receiver.accepted()  # attempts were made, none succeeded
    server.stop(signal.SIGKILL)

    accepting = True
    server.start()
    api = Api(server, account)
    for leg_sid in ended + live:
        events = receiver.wait_terminated(leg_sid, seconds=20)
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1)), leg_sid
    for leg_sid in live:  # legs the crash cut off end with platform_restart, and that event arrives too
        last = receiver.events_of(leg_sid)[-1]["event_data"]["data"]
        assert (last["terminal_status"], last["hangup_cause"]) == ("failed", "platform_restart")
    for request in receiver.accepted():
        verify(account.webhook_secret, request)
    for leg_sid in ended + live:
        stored = wait_for(lambda sid=leg_sid: api.events(sid),
                          lambda events: all(e["delivery"]["status"] == "delivered" for e in events),
                          seconds=10, what=None)
        assert [e["delivery"]["status"] for e in stored] == ["delivered"] * len(stored)
        assert {e["event_sid"] for e in stored} == {e["event_sid"] for e in receiver.events_of(leg_sid)}
