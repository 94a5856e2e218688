"""The gRPC sink: `LegEventReceiver.Deliver` over grpc:// (plaintext) or grpcs:// (TLS).

Each attempt resolves the endpoint's host once through the endpoint policy and calls a channel whose
target is that checked address, with the endpoint's own name as authority (and TLS server name), so
a name that starts resolving to a forbidden address (DNS rebinding) gets nothing.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from legato.events.endpoints import EndpointPolicy, IPAddress, parse_url
from legato.events.proto import events_pb2, events_pb2_grpc
from legato.events.signature import SignedEvent
from legato.events.sinks import NOT_SENT, Result, SinkKind, not_sent

RETRIED = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                     grpc.StatusCode.RESOURCE_EXHAUSTED})
"""Status codes retried with backoff; every other non-OK status is a permanent failure."""


def to_message(event: SignedEvent, payload: dict[str, Any]) -> events_pb2.LegEvent:
    """The protobuf form of an event, carrying the signature of its JSON body.

    Every body travels whole in `signed_payload`; the typed fields are filled when the body is
    Legato's own event shape and left empty for another provider's (`event_format`).
    """
    message = events_pb2.LegEvent(
        event_sid=event.event_sid, webhook_id=event.headers["webhook-id"],
        webhook_timestamp=event.headers["webhook-timestamp"], webhook_signature=event.headers["webhook-signature"],
        signed_payload=event.body)
    stamp, event_data = payload.get("event_timestamp"), payload.get("event_data")
    if not (isinstance(stamp, dict) and isinstance(event_data, dict) and isinstance(event_data.get("data"), dict)):
        return message  # another provider's shape: signed_payload is the body
    message.event_type = payload["event_type"]
    message.event_name = payload["event_name"]
    message.sequence = payload["sequence"]
    message.event_timestamp.CopyFrom(Timestamp(seconds=stamp["seconds"], nanos=stamp["nanos"]))
    data = Struct()
    data.update(event_data["data"])
    message.data.CopyFrom(data)
    if event_data.get("error") is not None:
        message.error.update(event_data["error"])
    return message


class GrpcSink:
    """Calls Deliver with a per-attempt deadline; a channel per endpoint and checked address, reused."""

    def __init__(self, policy: EndpointPolicy, timeout: float = 5.0) -> None:
        self.policy = policy
        self.timeout = timeout
        self._stubs: dict[str, tuple[IPAddress, grpc.aio.Channel, events_pb2_grpc.LegEventReceiverStub]] = {}

    async def _stub(self, endpoint: str) -> events_pb2_grpc.LegEventReceiverStub:
        """The stub for `endpoint` at the address its host resolves to now (checked by the policy)."""
        url = parse_url(endpoint, "endpoint", ("grpc", "grpcs"))
        host = url.raw_host.decode("ascii")
        address = (await self.policy.addresses(host))[0]
        entry = self._stubs.get(endpoint)
        if entry is not None and entry[0] == address:
            return entry[2]
        if entry is not None:  # the name moved: never reuse a channel to the old address
            del self._stubs[endpoint]
            await entry[1].close()
        target = f"[{address}]:{url.port}" if address.version == 6 else f"{address}:{url.port}"
        authority = f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"
        options: list[tuple[str, Any]] = [("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 0),
                                          ("grpc.default_authority", authority)]
        if url.scheme == "grpcs":
            options.append(("grpc.ssl_target_name_override", host))
            channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(), options=options)
        else:
            channel = grpc.aio.insecure_channel(target, options=options)
        stub = events_pb2_grpc.LegEventReceiverStub(channel)
        self._stubs[endpoint] = (address, channel, stub)
        return stub

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        try:
            message = to_message(event, payload)
            stub = await self._stub(endpoint)
            await stub.Deliver(message, timeout=self.timeout, metadata=tuple(event.headers.items()))
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        except NOT_SENT as exc:
            return not_sent(exc)
        return Result("delivered", grpc.StatusCode.OK.value[0], "OK")

    async def aclose(self) -> None:
        stubs, self._stubs = list(self._stubs.values()), {}
        for _, channel, _ in stubs:
            await channel.close()


def _failure(exc: grpc.aio.AioRpcError) -> Result:
    """The outcome of a non-OK status; its details (the endpoint's words) are measured, never shown."""
    code = exc.code()
    retry = code in RETRIED
    retry_after = None
    for key, value in exc.trailing_metadata() or ():
        if key == "retry-after" and isinstance(value, str) and value.strip().isdigit():
            retry_after = float(value)
    details = exc.details() or ""
    error = f"gRPC {code.name}, details {len(details.encode())} bytes (not shown)" if details else f"gRPC {code.name}"
    return Result("retry" if retry else "failed", code.value[0], code.name, error, retry_after if retry else None)


SINK = SinkKind(("grpc", "grpcs"), ("grpc://",), lambda options: GrpcSink(options.policy, options.timeout))
