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
import time
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api import legs
from legato.api.access_log import AccessLog
from legato.api.auth import basic_credentials
from legato.api.edge import once
from legato.api.envelope import envelope
from legato.app.idempotency import HEADER
from legato.app.legs import CreateLeg
from legato.cluster.routing import ROUTED
from legato.dialects.exotel import leg_resource
from legato.domain.account import Account
from legato.domain.errors import LegatoError
from legato.domain.text import check_storable, is_storable

_CREATE = re.compile(r"^/v2/accounts/([^/]+)/legs$")
_KEY = HEADER.lower().encode("latin-1")


class LegCreates:
    """ASGI middleware answering leg creates itself (see the module's docstring); `max_bytes` is the body
    limit `BodyLimit` enforces behind it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._route = next(r for r in legs.router.routes if isinstance(r, APIRoute) and r.name == "create_leg")
        self._handlers: dict[Any, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CREATE.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        runtime = getattr(scope["app"].state, "runtime", None) if match else None
        if runtime is None or scope["query_string"] or (runtime.cluster is not None and not scope.get(ROUTED)):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self.app(scope, receive, send)  # BodyLimit answers 413
        sid = match[1]  # type: ignore[index]
        scope["path_params"] = {"account_sid": sid}
        account = await _account(runtime, sid, _header(scope, b"authorization"))
        if account is None:  # refused (or the database is down): the route says so, without reading the body
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        body, chunks = await self._read(receive)
        try:
            if body is None:
                raise ValueError("not a JSON object, or larger than the body limit")
            check_storable(body)
            runtime.drain.check_taking_legs()
            leg_request = CreateLeg.model_validate(body)
        except (LegatoError, ValidationError, ValueError):
            return await self.app(scope, _replay(chunks, receive), send)
        scope["route"] = self._route  # the access line's and the metrics' operation
        status = 500
        try:
            status = await self._create(scope, send, request, runtime.legs, account, leg_request, body)
        finally:
            AccessLog.record(scope, status, time.perf_counter() - started)

    async def _create(self, scope: Scope, send: Send, request: Request, service: Any, account: Account,
                      leg_request: CreateLeg, body: dict[str, Any]) -> int:
        """Run the create as the route does (once per Idempotency-Key) and send its answer; its status."""

        async def create(request: Request) -> Response:
            leg = await service.create(account, leg_request)
            return envelope(request, 202, leg_resource(leg))

        try:
            key = _header(scope, _KEY)
            response = await (create(request) if key is None else once(request, account.account_sid, key, body,
                                                                          create))
        except Exception as exc:  # the application's handler for it, as its ExceptionMiddleware would pick it
            if self._handlers is None:
                self._handlers = {k: v for k, v in scope["app"].exception_handlers.items() if k not in (500, Exception)}
            handler = next((self._handlers[kind] for kind in type(exc).__mro__ if kind in self._handlers), None)
            if handler is None:
                raise  # as on the route: ServerErrorMiddleware answers 500 and the server logs it
            response = await handler(request, exc)
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
        return response.status_code

    async def _read(self, receive: Receive) -> tuple[Any, list[Message]]:
        """The body parsed as JSON (None when it is not a JSON object or passes the limit), and the messages
        it came in."""
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return None, chunks
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        try:
            body = json.loads(b"".join(m.get("body", b"") for m in chunks))
        except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
            return None, chunks
        return (body if isinstance(body, dict) else None), chunks


async def _account(runtime: Any, sid: str, authorization: str | None) -> Account | None:
    """The account when the HTTP Basic credentials are this account's, as `api/auth.py` `authenticate` finds
    them; None when it would refuse them (or fail)."""
    credentials = basic_credentials(authorization) if authorization else None
    if credentials is None or not all(is_storable(text) for text in (sid, *credentials)):
        return None
    try:
        account = await runtime.accounts.authenticate(*credentials)
    except Exception:
        return None
    return account if account.account_sid == sid else None


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
