"""A leg create answers the same whichever way it is served: through the middleware stack and the router
(the create route), straight from ASGI (`api/fast_legs.py`), or by FastAPI's own handler of the route's
declaration (what `api/leg_create.py` does in its place)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.types import Receive, Scope, Send

from legato.api.draining import taking_legs
from legato.api.edge import EdgeRoute
from legato.api.fast_legs import LegCreates
from legato.api.legs import create_leg
from legato.api.server import create_app
from legato.config import Settings

GOOD = {"contact_uri": "09163816621", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}
BAD_BODIES = [b"", b"null", b"[1]", b'"text"', b"0", b"{", b"   ", b"\xff\xfe\x00", b'{"contact_uri": "\xff"}',
              b'{"x": "\\u0000"}', b'{"x": "\\ud800"}', json.dumps({**GOOD, "contact_uri": 5}).encode(),
              json.dumps({**GOOD, "time_limit": 0}).encode(), json.dumps({**GOOD, "colour": "blue"}).encode(),
              json.dumps({**GOOD, "custom_param": "x" * 5000}).encode(), json.dumps({"exophone": 1}).encode(),
              json.dumps({**GOOD, "contact_uri": "12"}).encode(), json.dumps({**GOOD, "exophone": "080"}).encode(),
              b"x" * 2000]
LIMIT = 1024


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, dict[str, str]]]:
    """A started app (in process, sandbox) with FastAPI's own handler of the create's declaration at
    /plain/...; and the Authorization of its account ACpaths."""
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}", data_dir=tmp_path,
                              secret_key_file=tmp_path / "legato.key", max_body_bytes=LIMIT, time_scale=50))
    app.router.add_api_route("/plain/v2/accounts/{account_sid}/legs", create_leg, methods=["POST"],
                             dependencies=[Depends(taking_legs)], route_class_override=EdgeRoute)
    await app.state.start()
    try:
        made = await app.state.runtime.accounts.create(sid="ACpaths", exophones=["08030752400"])
        pair = f"{made.account.api_key}:{made.api_token}"
        yield app, {"authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    finally:
        await app.state.flows.stop()
        await app.state.runtime.stop()


def under_fast_path(app: FastAPI) -> Any:
    """The app's middleware stack below `LegCreates`: what serves a create it leaves alone."""
    stack = app.build_middleware_stack()
    while not isinstance(stack, LegCreates):
        stack = stack.app
    below = stack.app

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        await below(scope, receive, send)

    return serve


def requests(auth: dict[str, str]) -> list[tuple[bytes, dict[str, str]]]:
    """Bad requests: bodies, credentials, an Idempotency-Key used with another body (k0 was used with GOOD)."""
    other = base64.b64encode(b"key_nope:token").decode()
    made = [(body, auth) for body in BAD_BODIES]
    made += [(body, {}) for body in (b"{", json.dumps(GOOD).encode())]
    made += [(json.dumps(GOOD).encode(), {"authorization": value})
             for value in ("Bearer x", "Basic !!!", "Basic " + other, "Basic " + base64.b64encode(b"k").decode())]
    made += [(json.dumps({**GOOD, "custom_param": "other"}).encode(), {**auth, "idempotency-key": "k0"}),
             (b"{", {**auth, "idempotency-key": "k1"}), (b"[]", {**auth, "idempotency-key": "k" + "x" * 300})]
    return made


def answer(response: httpx.Response) -> tuple[int, dict[str, str], dict[str, Any]]:
    body = response.json()
    body.pop("request_id")
    return response.status_code, {k: v for k, v in response.headers.items() if k != "content-length"}, body


async def test_route_fast_path_and_fastapi_give_the_same_refusals(served: tuple[FastAPI, dict[str, str]]) -> None:
    app, auth = served
    path = "/v2/accounts/ACpaths/legs"
    entries = {"fast path": (app, path), "route": (under_fast_path(app), path), "fastapi": (app, "/plain" + path)}
    clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=entry), base_url="http://test")
               for name, (entry, _) in entries.items()}
    try:
        first = await clients["fast path"].post(path, content=json.dumps(GOOD),
                                                headers={**auth, "idempotency-key": "k0"})
        assert first.status_code == 202, first.text  # the key of the conflicts below
        for draining in (False, True):
            app.state.runtime.drain.draining = draining
            for body, headers in requests(auth):
                answers = {name: answer(await clients[name].post(where, content=body, headers=headers))
                           for name, (_, where) in entries.items()}
                assert answers["fast path"][0] >= 400, (body, headers, answers["fast path"])
                assert answers["fast path"] == answers["route"] == answers["fastapi"], (body, headers, answers)
    finally:
        for client in clients.values():
            await client.aclose()
