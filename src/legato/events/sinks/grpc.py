"""The gRPC sink: `LegEventReceiver.Deliver` over grpc:// (plaintext) or grpcs:// (TLS), one channel per endpoint."""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

import grpc
from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from legato.events.proto import events_pb2, events_pb2_grpc
from legato.events.signature import SignedEvent
from legato.events.sinks import Result, SinkKind

RETRIED = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                     grpc.StatusCode.RESOURCE_EXHAUSTED})
"""Status codes retried with backoff; every other non-OK status is a permanent failure."""


def to_message(event: SignedEvent, payload: dict[str, Any]) -> events_pb2.LegEvent:
    """The protobuf form of an event, carrying the signature of its JSON body."""
    stamp = payload["event_timestamp"]
    data = Struct()
    data.update(payload["event_data"]["data"])
    message = events_pb2.LegEvent(
        event_sid=payload["event_sid"], event_type=payload["event_type"], event_name=payload["event_name"],
        event_timestamp=Timestamp(seconds=stamp["seconds"], nanos=stamp["nanos"]), sequence=payload["sequence"],
        data=data, webhook_id=event.headers["webhook-id"], webhook_timestamp=event.headers["webhook-timestamp"],
        webhook_signature=event.headers["webhook-signature"], signed_payload=event.body)
    error = payload["event_data"].get("error")
    if error is not None:
        message.error.update(error)
    return message


class GrpcSink:
    """Calls Deliver with a per-attempt deadline; channels are opened once per endpoint and reused."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._stubs: dict[str, tuple[grpc.aio.Channel, events_pb2_grpc.LegEventReceiverStub]] = {}

    def _stub(self, endpoint: str) -> events_pb2_grpc.LegEventReceiverStub:
        entry = self._stubs.get(endpoint)
        if entry is None:
            parts = urlsplit(endpoint)
            target = f"{parts.hostname}:{parts.port}" if ":" not in (parts.hostname or "") \
                else f"[{parts.hostname}]:{parts.port}"
            options = [("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 0)]
            channel = grpc.aio.secure_channel(target, grpc.ssl_channel_credentials(), options=options) \
                if parts.scheme == "grpcs" else grpc.aio.insecure_channel(target, options=options)
            entry = (channel, events_pb2_grpc.LegEventReceiverStub(channel))
            self._stubs[endpoint] = entry
        return entry[1]

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        try:
            message = to_message(event, payload)
            await self._stub(endpoint).Deliver(message, timeout=self.timeout,
                                               metadata=tuple(event.headers.items()))
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
            retry = code in RETRIED
            retry_after = None
            for key, value in exc.trailing_metadata() or ():
                if key == "retry-after" and isinstance(value, str) and value.strip().isdigit():
                    retry_after = float(value)
            return Result("retry" if retry else "failed", code.value[0], code.name,
                          exc.details() or code.name, retry_after if retry else None)
        except Exception as exc:  # a sink never raises: anything unexpected is retried later
            return Result("retry", error=f"{type(exc).__name__}: {exc}"[:300])
        return Result("delivered", grpc.StatusCode.OK.value[0], "OK")

    async def aclose(self) -> None:
        stubs, self._stubs = list(self._stubs.values()), {}
        for channel, _ in stubs:
            await channel.close()


def _check(parts: SplitResult) -> str | None:
    if not parts.hostname or parts.port is None or parts.path not in ("", "/"):
        return "must be grpc://host:port"
    return None


SINK = SinkKind(("grpc", "grpcs"), ("grpc://",), _check, lambda options: GrpcSink(options.timeout))
