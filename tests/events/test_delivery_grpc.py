"""gRPC delivery end to end: a real Legato server calling a real LegEventReceiver on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from tests.events.conftest import leg_sid_of
from tests.events.receivers import GrpcReceiver, message_dict, verify
from tests.events.test_delivery_http import delivered
from tests.legato_server import Api


def test_answered_leg_over_grpc_signed(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: GrpcReceiver = receivers("grpc")
    leg_sid = leg_sid_of(events_api.create_leg("09163810007", leg_event_endpoint=receiver.url, custom_param="g"))
    events = receiver.wait_terminated(leg_sid)
    assert [e["event_name"] for e in events] == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
    for request in receiver.accepted():
        payload = verify(events_api.account.webhook_secret, request)
        message = request.message
        assert message.event_sid == message.webhook_id == payload["event_sid"]
        assert request.headers["webhook-id"] == message.event_sid  # also sent as call metadata
        assert (message.event_name, message.event_type, message.sequence) == \
            (payload["event_name"], payload["event_type"], payload["sequence"])
        assert (message.event_timestamp.seconds, message.event_timestamp.nanos) == \
            (payload["event_timestamp"]["seconds"], payload["event_timestamp"]["nanos"])
        as_dict = message_dict(message)
        assert as_dict["data"]["leg_sid"] == leg_sid
        assert as_dict["data"]["custom_param"] == "g"
        assert not message.HasField("error")
    assert all(e["delivery"]["status"] == "delivered" for e in delivered(events_api, leg_sid))


def test_grpc_failure_carries_error_struct(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: GrpcReceiver = receivers("grpc")
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_terminated(leg_sid)
    last = receiver.accepted()[-1].message
    assert last.event_name == "leg_terminated"
    assert message_dict(last)["error"]["error_code"] == 17


def test_unavailable_is_retried_other_codes_are_not(events_api: Api, receivers: Callable[..., Any]) -> None:
    def respond(seen: int, message: Any) -> tuple[grpc.StatusCode, float]:
        if message.sequence == 1:
            return (grpc.StatusCode.UNAVAILABLE if seen < 2 else grpc.StatusCode.OK), 0.0
        return grpc.StatusCode.INVALID_ARGUMENT, 0.0

    receiver: GrpcReceiver = receivers("grpc", respond)
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    stored = delivered(events_api, leg_sid)
    assert [e["delivery"]["status"] for e in stored] == ["delivered", "failed"]
    assert [(a["outcome"], a["status"]) for a in stored[0]["attempts"]] == \
        [("retry", "UNAVAILABLE"), ("retry", "UNAVAILABLE"), ("delivered", "OK")]
    assert [(a["outcome"], a["status"], a["status_code"]) for a in stored[1]["attempts"]] == \
        [("failed", "INVALID_ARGUMENT", 3)]
    assert [r.message.event_sid for r in receiver.received[:3]] == [stored[0]["event_sid"]] * 3


def test_deadline_exceeded_is_retried(make_server: Callable[..., Any], receivers: Callable[..., Any]) -> None:
    server = make_server(env={"LEGATO_EVENTS_ATTEMPT_TIMEOUT": "0.3", "LEGATO_EVENTS_BACKOFF_BASE": "1"}).start()
    api = Api(server, server.create_account())
    receiver: GrpcReceiver = receivers("grpc", lambda seen, m: (grpc.StatusCode.OK, 0.8 if seen == 0 else 0.0))
    leg_sid = leg_sid_of(api.create_leg("09163810001", leg_event_endpoint=receiver.url))
    receiver.wait_terminated(leg_sid)
    stored = delivered(api, leg_sid)
    assert [a["status"] for a in stored[0]["attempts"]] == ["DEADLINE_EXCEEDED", "OK"]
