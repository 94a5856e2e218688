"""A receiver for users: an HTTP and/or gRPC endpoint that verifies Legato's signatures.

`legato events listen` runs it. Every request's Standard Webhooks signature is checked against the
account's secret; a bad one is refused (HTTP 401, gRPC UNAUTHENTICATED) and reported, a good one is
acknowledged and handed to `on_event`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from standardwebhooks import Webhook, WebhookVerificationError

from legato.events.proto import events_pb2, events_pb2_grpc

_MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request: the payload if it could be read, whether its signature held, and when it came."""

    transport: str  # http | grpc
    received_at: float  # time.time()
    webhook_id: str | None
    verified: bool  # False when no secret was given (nothing checked) or the check failed
    payload: dict[str, Any] | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"received_at": self.received_at, "transport": self.transport, "webhook_id": self.webhook_id,
                "verified": self.verified, "error": self.error, "event": self.payload}


OnArrival = Callable[[Arrival], None]


class Verifier:
    """Checks bodies against Standard Webhooks headers; with no secret it checks nothing."""

    def __init__(self, secret: str | None) -> None:
        self.webhook = Webhook(secret) if secret else None

    def check(self, body: str, headers: dict[str, str]) -> tuple[dict[str, Any] | None, bool, str | None]:
        """(payload, verified, error): error set means the request must be refused."""
        if self.webhook is not None:
            try:
                return self.webhook.verify(body, headers), True, None
            except WebhookVerificationError as exc:
                return None, False, f"bad signature: {exc}"
            except Exception as exc:  # malformed headers or secret mismatch in format
                return None, False, f"bad signature: {type(exc).__name__}"
        try:
            return json.loads(body), False, None
        except ValueError:
            return None, False, "body is not JSON"


def http_app(verifier: Verifier, on_arrival: OnArrival) -> Callable[..., Awaitable[None]]:
    """A bare ASGI app: POST (any path) with a signed JSON body -> 200, bad signature -> 401."""

    async def app(scope: dict[str, Any], receive: Callable[..., Awaitable[dict[str, Any]]],
                  send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= _MAX_BODY:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        if scope["method"] != "POST":
            await _respond(send, 405, "POST events here")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        payload, verified, error = verifier.check(b"".join(chunks).decode("utf-8", "replace"), headers)
        on_arrival(Arrival("http", time.time(), headers.get("webhook-id"), verified, payload, error))
        status = 200 if error is None else 401 if verifier.webhook is not None else 400
        await _respond(send, status, error or "ok")

    return app


async def _respond(send: Callable[[dict[str, Any]], Awaitable[None]], status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Servicer(events_pb2_grpc.LegEventReceiverServicer):
    def __init__(self, verifier: Verifier, on_arrival: OnArrival) -> None:
        self.verifier = verifier
        self.on_arrival = on_arrival

    async def Deliver(self, request: events_pb2.LegEvent,
                      context: grpc.aio.ServicerContext) -> events_pb2.DeliverAck:
        headers = {"webhook-id": request.webhook_id, "webhook-timestamp": request.webhook_timestamp,
                   "webhook-signature": request.webhook_signature}
        payload, verified, error = self.verifier.check(request.signed_payload, headers)
        if error is None and payload is not None and payload.get("event_sid") != request.event_sid:
            payload, verified, error = None, False, "signed payload is for another event"
        self.on_arrival(Arrival("grpc", time.time(), request.webhook_id or None, verified, payload, error))
        if error is not None:
            code = grpc.StatusCode.UNAUTHENTICATED if self.verifier.webhook else grpc.StatusCode.INVALID_ARGUMENT
            await context.abort(code, error)
        return events_pb2.DeliverAck(event_sid=request.event_sid)


async def serve(on_arrival: OnArrival, *, http: tuple[str, int] | None = None, grpc_at: tuple[str, int] | None = None,
                secret: str | None = None, ready: Callable[[], None] | None = None) -> None:
    """Listen until cancelled."""
    import uvicorn

    verifier = Verifier(secret)
    tasks: list[asyncio.Task[Any]] = []
    grpc_server = None
    http_server = None
    try:
        if grpc_at is not None:
            grpc_server = grpc.aio.server()
            events_pb2_grpc.add_LegEventReceiverServicer_to_server(_Servicer(verifier, on_arrival), grpc_server)
            if grpc_server.add_insecure_port(f"{grpc_at[0]}:{grpc_at[1]}") == 0:
                raise OSError(f"cannot listen on {grpc_at[0]}:{grpc_at[1]}")
            await grpc_server.start()
            tasks.append(asyncio.create_task(grpc_server.wait_for_termination()))
        if http is not None:
            config = uvicorn.Config(http_app(verifier, on_arrival), host=http[0], port=http[1], log_level="warning",
                                    access_log=False, lifespan="off")
            http_server = uvicorn.Server(config)
            tasks.append(asyncio.create_task(http_server.serve()))
            while not http_server.started:
                if tasks[-1].done():
                    tasks[-1].result()
                    raise OSError(f"cannot listen on {http[0]}:{http[1]}")
                await asyncio.sleep(0.01)
        if ready is not None:
            ready()
        await asyncio.gather(*tasks)
    finally:
        if http_server is not None:
            http_server.should_exit = True
        if grpc_server is not None:
            await grpc_server.stop(0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
