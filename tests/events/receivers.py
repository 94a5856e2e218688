"""Real event receivers for tests: an HTTP/1.1 server and a gRPC server on 127.0.0.1, in threads.

Each records every request it gets and answers as its `respond` callback says, so a test can make an
endpoint fail, be slow, or ask for a Retry-After, then look at what arrived and when.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from standardwebhooks import Webhook

from legato.events.proto import events_pb2, events_pb2_grpc
from tests.waiting import wait_for


@dataclass
class Received:
    """One request as it arrived."""

    at: float  # time.time() on arrival
    headers: dict[str, str]
    body: str
    answered: int | str  # HTTP status or gRPC status name
    message: Any = None  # the LegEvent (gRPC)
    path: str = ""  # the request path (HTTP)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Answer:
    """How to answer one request: status, extra headers, how long to wait first, or until when to hold it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes = b"ok"
    hold: threading.Event | None = None  # answer only once this is set (a test sets it before closing)


Respond = Callable[[int, dict[str, str]], Answer]
"""(how many times this webhook-id arrived before, headers with the path as ":path") -> Answer."""


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.seen: dict[str, int] = {}

    def count(self, event_id: str) -> int:
        with self.lock:
            n = self.seen.get(event_id, 0)
            self.seen[event_id] = n + 1
            return n

    def add(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered in (200, "OK")]

    def wait_for(self, condition: Callable[[list[Received]], bool], seconds: float = 20) -> list[Received]:
        return wait_for(self.accepted, condition, seconds=seconds, every=0.02,
                        what=lambda: f"the condition on {len(self.received)} requests received")

    def events_of(self, leg_sid: str) -> list[dict[str, Any]]:
        """Accepted payloads of one leg, first receipt of each event_sid, in arrival order."""
        out, seen = [], set()
        for r in self.accepted():
            payload = r.payload
            if payload["event_data"]["data"]["leg_sid"] == leg_sid and payload["event_sid"] not in seen:
                seen.add(payload["event_sid"])
                out.append(payload)
        return out

    def wait_terminated(self, leg_sid: str, seconds: float = 20) -> list[dict[str, Any]]:
        self.wait_for(lambda _: any(e["event_name"] == "leg_terminated" for e in self.events_of(leg_sid)),
                      seconds)
        return self.events_of(leg_sid)


class HttpReceiver(_Recorder):
    """An HTTP/1.1 (keep-alive) webhook endpoint at http://<host>:<port>/events (any path is accepted)."""

    def __init__(self, respond: Respond | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.respond: Respond = respond or (lambda n, h: Answer())
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()} | {":path": self.path}
                answer = receiver.respond(receiver.count(headers.get("webhook-id", "")), headers)
                if answer.hold:
                    answer.hold.wait(60)
                if answer.delay:
                    time.sleep(answer.delay)  # kept: a slow endpoint, against the sender's real attempt timeout
                receiver.add(Received(time.time(), headers, body, answer.status, path=self.path))
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


GrpcRespond = Callable[[int, events_pb2.LegEvent], tuple[grpc.StatusCode, float]]
"""(times this event_sid arrived before, message) -> (status to answer, seconds to wait first)."""


class GrpcReceiver(_Recorder):
    """A LegEventReceiver at grpc://<host>:<port>."""

    def __init__(self, respond: GrpcRespond | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.respond: GrpcRespond = respond or (lambda n, m: (grpc.StatusCode.OK, 0.0))
        receiver = self

        class Servicer(events_pb2_grpc.LegEventReceiverServicer):
            def Deliver(self, request: events_pb2.LegEvent, context: grpc.ServicerContext) -> events_pb2.DeliverAck:
                code, delay = receiver.respond(receiver.count(request.event_sid), request)
                if delay:
                    time.sleep(delay)  # kept: a slow endpoint, against the sender's real attempt timeout
                headers = {k: v for k, v in context.invocation_metadata()}
                receiver.add(Received(time.time(), headers, request.signed_payload, code.name, request))
                if code is not grpc.StatusCode.OK:
                    context.abort(code, "told to fail")
                return events_pb2.DeliverAck(event_sid=request.event_sid)

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        events_pb2_grpc.add_LegEventReceiverServicer_to_server(Servicer(), self.server)
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if not self.port:
            raise OSError(f"cannot bind {host}:{port}")
        self.url = f"grpc://{host}:{self.port}"
        self.server.start()

    def close(self) -> None:
        self.server.stop(0)


def verify(secret: str, received: Received) -> dict[str, Any]:
    """Check a request's Standard Webhooks signature with the reference library; returns the payload."""
    headers = {k: received.headers[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    if received.message is not None:  # gRPC: the signature fields travel in the message
        m = received.message
        headers = {"webhook-id": m.webhook_id, "webhook-timestamp": m.webhook_timestamp,
                   "webhook-signature": m.webhook_signature}
    return Webhook(secret).verify(received.body, headers)


def message_dict(message: events_pb2.LegEvent) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)
