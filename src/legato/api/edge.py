"""The edge every API route passes first: authenticate before any body is read, refuse text the database
cannot store (path, query, body) as a 400 naming the field, refuse oversized bodies early (413), and run a
POST with an Idempotency-Key once."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.auth import ADMIN_SCOPE, authenticate, authenticate_admin, bearer_token
from legato.api.envelope import envelope, error_data
from legato.app.idempotency import HEADER, Answer, Bound, fingerprint, hold, release_hold
from legato.dialects.exotel import leg_resource
from legato.domain.errors import LegatoError
from legato.domain.text import check_storable

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class EdgeRoute(APIRoute):
    """An API route: path and query checked, the caller authenticated, then the body read and checked."""

    async def authorize(self, request: Request) -> str:
        """Authenticate the caller (an account); its Idempotency-Key scope."""
        return (await authenticate(request)).account_sid

    def get_route_handler(self) -> Handler:
        return self.edge(self.endpoint_handler())

    def endpoint_handler(self) -> Handler:
        """What runs once the edge passed: FastAPI's handler (dependencies, the body's validation, the
        endpoint); `api/leg_create.py` gives the create route its own."""
        return super().get_route_handler()

    def edge(self, handler: Handler) -> Handler:
        """`handler` behind the edge's checks, in their order."""
        reads_body = self.body_field is not None

        async def edge(request: Request) -> Response:
            for name, value in request.path_params.items():
                check_storable(value, name)
            if request.scope["query_string"]:  # most have none: no QueryParams to parse
                for name, value in request.query_params.multi_items():
                    check_storable(value, name)
            scope = await self.authorize(request)
            body = await _json_body(request) if reads_body else None
            check_storable(body)
            key = request.headers.get(HEADER)
            if key is None or request.method != "POST":
                return await handler(request)
            return await once(request, scope, key, body, handler)

        return edge


class AdminRoute(EdgeRoute):
    """An administration route: the operator's admin token (Bearer), never an account's credentials."""

    async def authorize(self, request: Request) -> str:
        await authenticate_admin(request)
        return ADMIN_SCOPE


class AccountOrAdminRoute(EdgeRoute):
    """A route both may read: the operator with the admin token, or the account named in the path."""

    async def authorize(self, request: Request) -> str:
        if bearer_token(request) is not None:
            await authenticate_admin(request)
            return ADMIN_SCOPE
        return await super().authorize(request)


async def once(request: Request, account_sid: str, key: str, body: Any, handler: Handler) -> Response:
    """Run `handler` once per Idempotency-Key (scoped to `account_sid`): replay the stored first answer."""
    service = request.app.state.runtime.idempotency
    content = json.dumps(body, sort_keys=True, separators=(",", ":")).encode() if body is not None \
        else await request.body()
    first = await service.claim(account_sid, key, fingerprint(request.method, request.url.path, content))
    if isinstance(first, Bound):
        first = await _settle_cut_off(request, account_sid, key, first)
    if first is not None:
        return Response(first.body, first.status_code, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    held = hold(service, account_sid, key)
    try:
        response = await handler(request)
    except (LegatoError, RequestValidationError, HTTPException):  # refused: nothing was done
        await service.release(account_sid, key)
        raise
    finally:
        release_hold(held)
    # any other failure keeps the key claimed: the request may have acted, a retry must not act again
    if 200 <= response.status_code < 300:
        await service.answer(account_sid, key, Answer(response.status_code, bytes(response.body).decode()))
    else:
        await service.release(account_sid, key)
    return response


async def _settle_cut_off(request: Request, account_sid: str, key: str, bound: Bound) -> Answer | None:
    """A create cut off by a crash: its leg is the answer when it was accepted; else None (act now)."""
    runtime = request.app.state.runtime
    leg = await runtime.legs.legs.get(account_sid, bound.resource_sid)
    if leg is None:
        await runtime.idempotency.take_over(account_sid, key, bound)
        return None
    answer = Answer(202, bytes(envelope(request, 202, leg_resource(leg)).body).decode())
    await runtime.idempotency.answer(account_sid, key, answer)
    return answer


async def _json_body(request: Request) -> Any:
    """The body as JSON (cached on the request for FastAPI), or None when it is not JSON (FastAPI says why)."""
    try:
        return await request.json()
    except ValueError:
        return None


class BodyTooLarge(HTTPException):
    """Raised while reading a body that passed `max_bytes` (FastAPI re-raises HTTPExceptions: a 413 envelope)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body must be at most {max_bytes} bytes")


class BodyLimit:
    """ASGI middleware: a body announced larger than `max_bytes` is refused with 413 before anything reads it;
    a body without Content-Length (chunked) is cut off with 413 as soon as it passes `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if announced_over(scope, self.max_bytes):
            error = error_data("body_too_large", BodyTooLarge(self.max_bytes).detail, field="body")
            response = envelope(Request(scope), 413, error=error, headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, limited(receive, self.max_bytes), send)


def announced_over(scope: Scope, max_bytes: int) -> bool:
    """Whether the request's Content-Length (its first) announces more than `max_bytes`."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value.decode("latin-1")
            return length.isdigit() and int(length) > max_bytes
    return False


def limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive`, raising BodyTooLarge as soon as the body read passes `max_bytes`."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > max_bytes:
            raise BodyTooLarge(max_bytes)
        return message

    return limited
