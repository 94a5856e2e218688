"""`legato events listen`: the receiver users run, verifying signatures over HTTP and gRPC."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest
from standardwebhooks import Webhook

from legato.events.proto import events_pb2, events_pb2_grpc
from tests.events.conftest import leg_sid_of
from tests.legato_server import Api, LegatoServer, free_port
from tests.waiting import wait_for


class Listener:
    """`legato events listen --json` in a child process; its JSON lines collected by a thread."""

    def __init__(self, server: LegatoServer, *args: str) -> None:
        self.http_port, self.grpc_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "legato", "events", "listen", "--json", "--http", f"127.0.0.1:{self.http_port}",
             "--grpc", f"127.0.0.1:{self.grpc_port}", *args],
            env=server._env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        line = self.process.stderr.readline()
        assert "listening on" in line, line + self.process.stderr.read()
        self.lines: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def wait(self, count: int, seconds: float = 15) -> list[dict[str, Any]]:
        wait_for(lambda: len(self.lines), lambda n: n >= count, seconds=seconds, what=None, every=0.02)
        return list(self.lines)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def listener(events_server: LegatoServer, events_api: Api) -> Iterator[Listener]:
    listening = Listener(events_server, "--secret", events_api.account.webhook_secret)
    yield listening
    listening.stop()


def test_listen_prints_verified_http_and_grpc_events(events_api: Api, listener: Listener) -> None:
    http_leg = leg_sid_of(events_api.create_leg("09163810007",
                                                leg_event_endpoint=f"http://127.0.0.1:{listener.http_port}/hook"))
    grpc_leg = leg_sid_of(events_api.create_leg("09163810001",
                                                leg_event_endpoint=f"grpc://127.0.0.1:{listener.grpc_port}"))
    lines = listener.wait(6)
    assert all(line["verified"] and line["error"] is None for line in lines)
    by_leg: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        by_leg.setdefault(line["event"]["event_data"]["data"]["leg_sid"], []).append(
            (line["transport"], line["event"]["event_name"]))
    assert by_leg[http_leg] == [("http", n) for n in ("leg_connecting", "leg_ringing", "leg_answered",
                                                      "leg_terminated")]
    assert by_leg[grpc_leg] == [("grpc", "leg_connecting"), ("grpc", "leg_terminated")]


def test_listen_refuses_bad_signatures(listener: Listener) -> None:
    body = json.dumps({"event_sid": "evt1", "sequence": 1})
    forged = Webhook("whsec_" + "A" * 32).sign("evt1", datetime.now(UTC), body)
    headers = {"webhook-id": "evt1", "webhook-timestamp": str(int(time.time())), "webhook-signature": forged}
    response = httpx.post(f"http://127.0.0.1:{listener.http_port}/", content=body, headers=headers, timeout=5)
    assert response.status_code == 401
    assert httpx.post(f"http://127.0.0.1:{listener.http_port}/", content=body, timeout=5).status_code == 401
    with grpc.insecure_channel(f"127.0.0.1:{listener.grpc_port}") as channel:
        stub = events_pb2_grpc.LegEventReceiverStub(channel)
        message = events_pb2.LegEvent(event_sid="evt1", webhook_id="evt1", signed_payload=body,
                                      webhook_timestamp=headers["webhook-timestamp"], webhook_signature=forged)
        with pytest.raises(grpc.RpcError) as failure:
            stub.Deliver(message, timeout=5)
        assert failure.value.code() is grpc.StatusCode.UNAUTHENTICATED
    lines = listener.wait(3)
    assert [(line["transport"], line["verified"]) for line in lines] == [("http", False)] * 2 + [("grpc", False)]
    assert all(line["error"].startswith("bad signature") for line in lines)
