"""Command routing: any node's API takes any request; a command about a leg or bridge another node owns is
sent to that node over the bus and its answer (status, headers, body) is returned as it was given.

The one place that knows: reads are served from the database by whichever node is asked; these POSTs go to
the owner: a leg's actions and event redeliveries, a bridge's actions, a bridge's creation (the owner of its
first leg), a leg's creation (the node `cluster/placement.py` chooses), a conference's participants and actions
(its node mixes it), and a conference's creation with a `reference_leg_sid` (that leg's node). The owner runs
the forwarded request through its own API, so the answer is exactly the one it would give to the caller directly.
When the owner does not answer within `route_timeout`, or the database cannot say who it is (it is unavailable),
the caller gets 503 with Retry-After, as the API answers while the database is away (never 500).
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Awaitable, Callable

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.cluster.bus import NoAnswer
from legato.domain.ids import new_request_id
from legato.store.database import database_unavailable

log = logging.getLogger(__name__)
ROUTED = "legato.routed"  # scope key of a request a peer sent here: served here, never sent on
RETRY_AFTER = 2
_COMMAND = re.compile(
    r"^/v2/accounts/(?P<account>[^/]+)/(?:(?P<kind>legs|bridges|conferences)/(?P<sid>[^/]+)/"
    r"(?:actions|external-events/[^/]+/redeliver|participants(?:/[^/]+/actions)?)"
    r"|(?P<create>legs|bridges|conferences))/?$"
    r"|^/console/(?P<console>legs)/(?P<console_sid>[^/]+)/actions/?$"  # the console's Hang up (cookie auth)
)
_DROP = {b"connection", b"transfer-encoding"}


Authorized = Callable[[Scope, str], Awaitable[bool]]
"""(scope, account_sid) -> whether the request's credentials are the account's (api/server.py gives it)."""


async def _anyone(scope: Scope, account_sid: str) -> bool:
    return True


class ClusterRouting:
    """ASGI middleware: sends commands to the owner node (pass-through on a single node).

    The credentials are checked before the body is read (as the API's routes do, api/edge.py): a request
    without them goes on to this node's API, which refuses it without reading its body."""

    def __init__(self, app: ASGIApp, authorized: Authorized = _anyone) -> None:
        self.app = app
        self.authorized = authorized

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
        node = getattr(runtime, "cluster", None)  # None on a single node: nothing to route
        if node is None or scope["type"] != "http" or scope["method"] != "POST" or scope.get(ROUTED):
            return await self.app(scope, receive, send)
        match = _COMMAND.match(scope["path"])
        if match is None or (match["account"] and not await self.authorized(scope, match["account"])):
            return await self.app(scope, receive, send)
        body = await _read_body(receive)
        try:
            parsed = json.loads(body) if body else {}
        except ValueError:
            parsed = {}
        try:
            owner = await node.target(
                match["account"],
                match["kind"] or match["create"] or match["console"],
                match["create"],
                match["sid"] or match["console_sid"],
                parsed if isinstance(parsed, dict) else {},
            )
        except Exception as exc:  # outside the API's handlers: answer as they do (503, never 500)
            if not database_unavailable(exc):
                raise
            log.warning("database unavailable path=%s error=%s", scope["path"], exc)
            return await _unavailable("the database is unavailable; try again shortly")(scope, receive, send)
        if owner is None or owner == node.name:
            return await self.app(scope, _replay(body, receive), send)
        try:
            reply = json.loads(
                await node.bus.request(node.subject(owner), _request(scope, body, node.name), node.route_timeout)
            )
        except NoAnswer as exc:
            log.warning("owner node did not answer owner=%s path=%s error=%s", owner, scope["path"], exc)
            message = f"node {owner}, which holds this, did not answer; try again shortly"
            return await _unavailable(message)(scope, receive, send)
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in reply["headers"] if k.encode("latin-1") not in _DROP
        ]
        await send({"type": "http.response.start", "status": reply["status"], "headers": headers})
        await send({"type": "http.response.body", "body": base64.b64decode(reply["body"])})


def _unavailable(message: str) -> JSONResponse:
    """503 in the API's envelope (api/envelope.py), with Retry-After."""
    error = {"code": "unavailable", "message": message, "description": message, "field": None}
    return JSONResponse(
        {
            "request_id": new_request_id(),
            "method": "POST",
            "http_code": 503,
            "response": {"error_data": error, "data": None},
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER)},
    )


async def serve_routed(app: ASGIApp, payload: bytes) -> bytes:
    """Run a request a peer forwarded through this node's API (`app`); its answer, ready for the bus."""
    req = json.loads(payload)
    body = base64.b64decode(req["body"])
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": req["method"],
        "scheme": req["scheme"],
        "path": req["path"],
        "raw_path": req["path"].encode(),
        "root_path": "",
        "query_string": req["query"].encode("latin-1"),
        "client": tuple(req["client"]) if req["client"] else None,
        "server": tuple(req["server"]) if req["server"] else None,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in req["headers"]],
        ROUTED: req["from"],
    }
    status, headers, chunks = 500, [], []

    async def receive() -> Message:
        nonlocal body
        message = {"type": "http.request", "body": body, "more_body": False}
        body = b""
        return message

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], message.get("headers", [])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return json.dumps(
        {
            "status": status,
            "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
            "body": base64.b64encode(b"".join(chunks)).decode(),
        }
    ).encode()


def _request(scope: Scope, body: bytes, sender: str) -> bytes:
    return json.dumps(
        {
            "from": sender,
            "method": scope["method"],
            "scheme": scope.get("scheme", "http"),
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "client": scope.get("client"),
            "server": scope.get("server"),
            "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            "body": base64.b64encode(body).decode(),
        }
    ).encode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
