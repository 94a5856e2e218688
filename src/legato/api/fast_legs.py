"""`POST /v2/accounts/{sid}/legs` without the router: the hot route served straight from ASGI.

The route stays declared on FastAPI (`api/legs.py` `create_leg`: the OpenAPI document, and the answer to
every request this path does not take). This middleware takes a create only when it can answer exactly as
that route would: it checks what the route checks, in the same order (text the database cannot store, the
credentials, the body as a JSON object, draining, the body's fields); at the first check that does not pass,
the whole request (its body replayed) goes to the route, which gives the refusal. From there it runs what
the route runs (`edge.py` `once` with an Idempotency-Key, `LegService.create`, `envelope`), and an error is
answered by the application's own exception handlers. Its place, inside `AccessLog`, keeps the access line,
the metrics and the body limit; on a node of a cluster it takes only what `ClusterRouting` would not send on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api import legs
from legato.api.auth import authenticate
from legato.api.edge import once
from legato.api.envelope import envelope
from legato.app.idempotency import HEADER
from legato.app.legs import CreateLeg
from legato.cluster.routing import ROUTED
from legato.dialects.exotel import leg_resource
from legato.domain.errors import LegatoError
from legato.domain.text import check_storable

_CREATE = re.compile(r"^/v2/accounts/([^/]+)/legs$")
_KEY = HEADER.lower().encode("latin-1")


class LegCreates:
    """ASGI middleware answering leg creates itself (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._route = next(r for r in legs.router.routes if isinstance(r, APIRoute) and r.name == "create_leg")
        self._handlers: dict[Any, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CREATE.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        runtime = getattr(scope["app"].state, "runtime", None) if match else None
        if runtime is None or scope["query_string"] or (runtime.cluster is not None and not scope.get(ROUTED)):
            return await self.app(scope, receive, send)
        sid = match[1]  # type: ignore[index]
        scope["path_params"] = {"account_sid": sid}
        scope["route"] = self._route  # the access line's and the metrics' operation
        request = Request(scope, receive)
        try:
            check_storable(sid, "account_sid")
            account = await authenticate(request)
        except Exception:  # refused (or the database is down): the route says so, without reading the body
            return await self.app(scope, receive, send)
        try:
            body, chunks = await self._read(receive)
        except Exception as exc:  # the body limit (413), as the route would answer it
            return await self._answer(scope, send, request, exc)
        try:
            if body is None:
                raise ValueError("not a JSON object")
            check_storable(body)
            runtime.drain.check_taking_legs()
            leg_request = CreateLeg.model_validate(body)
        except (LegatoError, ValidationError, ValueError):
            return await self.app(scope, _replay(chunks, receive), send)

        async def create(request: Request) -> Response:
            leg = await runtime.legs.create(account, leg_request)
            return envelope(request, 202, leg_resource(leg))

        try:
            key = _header(scope, _KEY)
            response = await (create(request) if key is None else once(request, sid, key, body, create))
        except Exception as exc:
            return await self._answer(scope, send, request, exc)
        await _send(send, response)

    async def _answer(self, scope: Scope, send: Send, request: Request, exc: Exception) -> None:
        """Answer `exc` with the application's handler for it, as its ExceptionMiddleware would; an error
        it has no handler for is raised (ServerErrorMiddleware answers 500 and the server logs it)."""
        if self._handlers is None:
            self._handlers = {k: v for k, v in scope["app"].exception_handlers.items() if k not in (500, Exception)}
        handler = next((self._handlers[kind] for kind in type(exc).__mro__ if kind in self._handlers), None)
        if handler is None:
            raise exc
        await _send(send, await handler(request, exc))

    @staticmethod
    async def _read(receive: Receive) -> tuple[Any, list[Message]]:
        """The body parsed as JSON (None when it is not a JSON object), and the messages it came in."""
        chunks: list[Message] = []
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        raw = b"".join(m.get("body", b"") for m in chunks)
        try:
            body = json.loads(raw)
        except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
            return None, chunks
        return (body if isinstance(body, dict) else None), chunks



async def _send(send: Send, response: Response) -> None:
    await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _replay(chunks: list[Message], receive: Receive) -> Receive:
    """A receive that gives the messages already read again, then whatever the client sends next."""
    pending = list(chunks)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
