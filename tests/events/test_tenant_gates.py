"""One tenant's failing endpoint never holds another's events, and failure bodies never reach tenants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.events.conftest import FAST_RETRIES, leg_sid_of
from tests.events.receivers import Answer, HttpReceiver
from tests.events.test_delivery_http import delivered
from tests.legato_server import Api, LegatoServer


def test_a_failing_path_of_one_account_does_not_hold_another_accounts_path(
        make_server: Callable[..., LegatoServer], receivers: Callable[..., Any]) -> None:
    """Account A's path answers 503 asking for an hour's pause (72 s at this time scale): its gate stays
    shut for the rest of the test. Account B's path on the same host and port still gets every event."""
    receiver: HttpReceiver = receivers("http", lambda n, h: Answer(503, headers={"retry-after": "3600"})
                                       if h[":path"] == "/a" else Answer(200))
    server = make_server(env=dict(FAST_RETRIES)).start()
    a, b = Api(server, server.create_account()), Api(server, server.create_account())
    base = f"http://127.0.0.1:{receiver.port}"
    held = leg_sid_of(a.create_leg("09163810001", leg_event_endpoint=f"{base}/a"))
    receiver.wait_for(lambda _: any(r.path == "/a" for r in receiver.received))
    healthy = leg_sid_of(b.create_leg("09163810001", leg_event_endpoint=f"{base}/b"))
    events = receiver.wait_terminated(healthy)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_terminated"]
    assert [r.path for r in receiver.received if r.path == "/a"] == ["/a"]  # A is still held after one try
    assert [e["delivery"]["status"] for e in a.events(held)] == ["pending", "pending"]


def test_external_events_never_show_the_endpoints_answer(events_api: Api, receivers: Callable[..., Any]) -> None:
    body = b"<html>internal admin page: db password hunter2</html>"
    receiver: HttpReceiver = receivers("http", lambda n, h: Answer(400, body=body))
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    stored = delivered(events_api, leg_sid)
    errors = [a["error"] for e in stored for a in e["attempts"]]
    assert errors == [f"HTTP 400 Bad Request, body {len(body)} bytes (not shown)"] * 2
