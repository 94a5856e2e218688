"""DNS rebinding: the address an event is sent to is checked at every attempt, over HTTP and gRPC.

A name resolves to an allowed address (127.0.0.2) and later to a forbidden one (127.0.0.3); real
servers listen on both, on the same port. The resolver is injected at the sink boundary (the
endpoint policy), as the system resolver would answer; the forbidden server must never get a request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from legato.events.endpoints import EndpointPolicy, IPAddress
from legato.events.signature import sign_event
from legato.events.sinks import Result
from legato.events.sinks.grpc import GrpcSink
from legato.events.sinks.http import HttpSink
from tests.events.receivers import Answer, GrpcReceiver, HttpReceiver
from tests.legato_server import free_port

ALLOWED, FORBIDDEN = "127.0.0.2", "127.0.0.3"
NAME = "hooks.rebind.test"
PAYLOAD = {"event_sid": "EV1", "event_type": "leg_lifecycle_event", "event_name": "leg_ringing",
           "event_timestamp": {"seconds": 1767225600, "nanos": 0}, "sequence": 1,
           "event_data": {"data": {"leg_sid": "L1"}, "error": None}}


class Rebinding:
    """A resolver whose answers change over time: `answers[i]` for the i-th lookup, then the last one."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.lookups: list[str] = []

    async def __call__(self, host: str) -> list[IPAddress]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups), len(self.answers)) - 1]]


def policy(resolver: Rebinding) -> EndpointPolicy:
    """Only 127.0.0.2 is allowed: loopback is refused, as on a server bound to a public address."""
    return EndpointPolicy([f"{ALLOWED}/32"], allow_loopback=False, resolver=resolver)


def pair(kind: str, respond: Any = None) -> Iterator[tuple[Any, Any]]:
    """Receivers on the allowed and the forbidden address, on one port."""
    for _ in range(20):
        port = free_port()
        made: list[Any] = []
        try:
            for host in (ALLOWED, FORBIDDEN):
                made.append(HttpReceiver(respond, host, port) if kind == "http" else GrpcReceiver(respond, host, port))
        except (OSError, RuntimeError):
            for receiver in made:
                receiver.close()
            continue
        try:
            yield made[0], made[1]
        finally:
            for receiver in made:
                receiver.close()
        return
    raise RuntimeError("no port free on both addresses")


@pytest.fixture
def http_pair() -> Iterator[tuple[HttpReceiver, HttpReceiver]]:
    # Connection: close, so each attempt opens a connection (a kept-alive one went to a checked address).
    yield from pair("http", lambda n, h: Answer(503, headers={"connection": "close"}))


@pytest.fixture
def grpc_pair() -> Iterator[tuple[GrpcReceiver, GrpcReceiver]]:
    yield from pair("grpc")


def signed() -> Any:
    return sign_event("EV1", PAYLOAD, "whsec_" + "A" * 32, datetime.now(UTC))


async def test_http_rebinding_to_a_forbidden_address_gets_nothing(
        http_pair: tuple[HttpReceiver, HttpReceiver]) -> None:
    allowed, forbidden = http_pair
    resolver = Rebinding(ALLOWED, FORBIDDEN)
    endpoint = f"http://{NAME}:{allowed.port}/events"
    sink = HttpSink(policy(resolver), timeout=5)
    try:
        first = await sink.deliver(endpoint, signed(), PAYLOAD)
        assert (first.outcome, first.status_code) == ("retry", 503)  # reached the allowed server
        assert allowed.received[0].headers["host"] == f"{NAME}:{allowed.port}"  # Host kept, not the address
        retried = await sink.deliver(endpoint, signed(), PAYLOAD)  # the retry: the name now points inward
    finally:
        await sink.aclose()
    restarted = HttpSink(policy(resolver), timeout=5)  # a restart (or a redelivery) resolves again
    try:
        after_restart = await restarted.deliver(endpoint, signed(), PAYLOAD)
    finally:
        await restarted.aclose()
    for result in (retried, after_restart):
        assert (result.outcome, result.status) == ("failed", "refused")
        assert result.error is not None and FORBIDDEN in result.error
    assert forbidden.received == []
    assert len(allowed.received) == 1
    assert resolver.lookups == [NAME] * 3  # resolved once per attempt


async def test_grpc_rebinding_to_a_forbidden_address_gets_nothing(
        grpc_pair: tuple[GrpcReceiver, GrpcReceiver]) -> None:
    allowed, forbidden = grpc_pair
    resolver = Rebinding(ALLOWED, FORBIDDEN, FORBIDDEN, ALLOWED)
    endpoint = f"grpc://{NAME}:{allowed.port}"
    sink = GrpcSink(policy(resolver), timeout=5)
    try:
        results: list[Result] = [await sink.deliver(endpoint, signed(), PAYLOAD) for _ in range(4)]
    finally:
        await sink.aclose()
    assert [(r.outcome, r.status) for r in results] == \
        [("delivered", "OK"), ("failed", "refused"), ("failed", "refused"), ("delivered", "OK")]
    assert forbidden.received == []
    assert len(allowed.accepted()) == 2
    assert resolver.lookups == [NAME] * 4


async def once(sink: HttpSink | GrpcSink, receiver: HttpReceiver | GrpcReceiver) -> Result:
    """One delivery to a loopback receiver; both are closed after."""
    try:
        return await sink.deliver(receiver.url, signed(), PAYLOAD)
    finally:
        await sink.aclose()
        receiver.close()


async def test_a_failure_body_is_never_echoed() -> None:
    secret = b'{"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG"}'
    result = await once(HttpSink(EndpointPolicy(allow_loopback=True), timeout=5),
                        HttpReceiver(lambda n, h: Answer(500, body=secret)))
    assert (result.outcome, result.status_code) == ("retry", 500)
    assert result.error == f"HTTP 500 Internal Server Error, body {len(secret)} bytes (not shown)"


async def test_grpc_details_are_never_echoed() -> None:
    result = await once(GrpcSink(EndpointPolicy(allow_loopback=True), timeout=5),
                        GrpcReceiver(lambda n, m: (grpc.StatusCode.PERMISSION_DENIED, 0.0)))
    assert (result.outcome, result.status) == ("failed", "PERMISSION_DENIED")
    assert result.error is not None and "told to fail" not in result.error
