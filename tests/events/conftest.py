"""Fixtures for event delivery: a server with fast retries, and real receivers closed after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.events.receivers import GrpcReceiver, HttpReceiver
from tests.legato_server import Api, LegatoServer

FAST_RETRIES = {"LEGATO_EVENTS_BACKOFF_BASE": "1", "LEGATO_EVENTS_BACKOFF_MAX": "5"}
"""At time scale 50: first retry after 10-20 ms, never more than 100 ms between attempts."""


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("legato-events")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                          env=dict(FAST_RETRIES)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def events_api(events_server: LegatoServer) -> Api:
    return Api(events_server, events_server.create_account("--exophone", "08030752400"))


@pytest.fixture
def receivers() -> Iterator[Callable[..., Any]]:
    """Make HTTP (`kind="http"`) or gRPC receivers; all are shut down at the end of the test."""
    made: list[HttpReceiver | GrpcReceiver] = []

    def make(kind: str = "http", respond: Any = None) -> Any:
        receiver = HttpReceiver(respond) if kind == "http" else GrpcReceiver(respond)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def leg_sid_of(response: Any) -> str:
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]
