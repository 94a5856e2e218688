"""The console at /console: sign-in to a session cookie, a live stream of the account, leg timelines
and (on the sandbox) test calls. Everything reuses the API's use-cases and views; only the way the
browser authenticates differs (a signed HttpOnly, SameSite=Strict cookie instead of HTTP Basic, so
EventSource works and no secret sits in a URL or in the page)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api import accounts, legs
from legato.api.envelope import envelope
from legato.app.accounts import account_summary
from legato.app.legs import CreateLeg, LegAction
from legato.console import STATIC, session
from legato.dialects.bridges import bridge_resource
from legato.dialects.exotel import leg_resource
from legato.domain.account import Account
from legato.domain.errors import Forbidden, NotFound, Unauthorized, ValidationFailed

router = APIRouter(prefix="/console", include_in_schema=False)

POLL_SECONDS = 0.5  # how often a stream looks for changes (it reads the database, so it sees every node)
STREAM_SECONDS = 5  # a stream then ends and EventSource reconnects: a shutdown waits at most this long on it
CONSOLE_HEADER = "x-legato-console"  # unsafe methods need it: a cross-site form cannot send it


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(min_length=1, max_length=256)
    api_token: str = Field(min_length=1, max_length=256)


class OperatorSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    admin_token: str = Field(min_length=1, max_length=256)


class NoBasicChallenge:
    """ASGI middleware: console 401s carry no `WWW-Authenticate: Basic` (a browser would stop the page's
    request to pop up its own password dialog instead of letting the page say what went wrong)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/console"):
            return await self.app(scope, receive, send)

        async def without_challenge(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=[(k, v) for k, v in message.get("headers", ())
                                                 if k.lower() != b"www-authenticate"])
            await send(message)

        await self.app(scope, receive, without_challenge)


def install(app: FastAPI) -> None:
    """Serve the console on `app` (one line in api/server.py)."""
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_middleware(NoBasicChallenge)


def _key(request: Request) -> bytes:
    return request.app.state.runtime.accounts.box.derive("console-session")


def _same_site(x_legato_console: str | None = Header(None)) -> None:
    if x_legato_console != "1":
        raise Unauthorized(f"console requests need the {CONSOLE_HEADER} header", field=CONSOLE_HEADER)


async def console_session(request: Request) -> tuple[str, Account | None]:
    """Who the valid session cookie names: (ACCOUNT, the account) or (OPERATOR, None)."""
    value = request.cookies.get(session.COOKIE, "")
    claimed = session.peek(value)
    if claimed is None or claimed.kind not in (session.ACCOUNT, session.OPERATOR):
        raise Unauthorized("sign in to the console")
    runtime = request.app.state.runtime
    if await runtime.console_signouts.signed_out(session.digest(value)):
        raise Unauthorized("the console session was signed out: sign in again")
    if claimed.kind == session.OPERATOR:
        stored = await runtime.admin.repo.token_hash()
        if stored is None or not session.verify(_key(request), value, stored):
            raise Unauthorized("the console session is not valid any more: sign in again")
        return session.OPERATOR, None
    found = await runtime.accounts.with_token_hash(claimed.account_sid)
    if found is None or not session.verify(_key(request), value, found[1]):
        raise Unauthorized("the console session is not valid any more: sign in again")
    account = found[0]
    if account.disabled:
        raise Forbidden(f"account {account.account_sid} is disabled by the operator", field="account_sid")
    return session.ACCOUNT, account


async def console_account(request: Request, account_sid: str | None = Query(None, max_length=64)) -> Account:
    """The signed-in account; for the operator, the account it looks at (`?account_sid=`)."""
    _kind, account = await console_session(request)
    if account is not None:
        return account
    if not account_sid:
        raise ValidationFailed("account_sid is required: pick one of the accounts", field="account_sid")
    return await request.app.state.runtime.accounts.get(account_sid)


async def _whoami(request: Request, kind: str, account: Account | None) -> dict[str, Any]:
    runtime = request.app.state.runtime
    where = {"network": runtime.settings.network, "node": runtime.settings.node_name}
    if account is None:
        return {"kind": session.OPERATOR, **where,
                "accounts": [account_summary(a) for a in await runtime.accounts.all()]}
    return {"kind": kind, "account_sid": account.account_sid, "name": account.name,
            "exophones": list(account.exophones), **where}


def _set_session(request: Request, response: JSONResponse, value: str) -> None:
    response.set_cookie(session.COOKIE, value, max_age=session.LIFETIME, path="/console", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


# The page loads only its own script, style and data, and no other site may frame it (a framed page's Hang up
# button could be clicked through an overlay): a second line of defence behind the escaping and the cookie.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("")
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


@router.post("/session", dependencies=[Depends(_same_site)])
async def sign_in(request: Request, body: SignIn = Body(...)) -> JSONResponse:
    runtime = request.app.state.runtime
    account = await runtime.accounts.authenticate(body.api_key, body.api_token)
    found = await runtime.accounts.with_token_hash(account.account_sid)
    if found is None:
        raise Unauthorized("invalid api_key or api_token")
    response = envelope(request, 200, await _whoami(request, session.ACCOUNT, account))
    _set_session(request, response, session.issue(_key(request), account.account_sid, found[1]))
    return response


@router.post("/operator-session", dependencies=[Depends(_same_site)])
async def operator_sign_in(request: Request, body: OperatorSignIn = Body(...)) -> JSONResponse:
    """Sign in with the admin token: the operator sees every account."""
    runtime = request.app.state.runtime
    await runtime.admin.check(body.admin_token)
    stored = await runtime.admin.repo.token_hash()
    response = envelope(request, 200, await _whoami(request, session.OPERATOR, None))
    _set_session(request, response, session.issue(_key(request), "", stored, kind=session.OPERATOR))
    return response


@router.get("/session")
async def current(request: Request, who: tuple[str, Account | None] = Depends(console_session)) -> JSONResponse:
    return envelope(request, 200, await _whoami(request, *who))


@router.delete("/session", dependencies=[Depends(_same_site)])
async def sign_out(request: Request) -> JSONResponse:
    """End the session: the cookie is cleared, and refused by every node until it would have expired."""
    value = request.cookies.get(session.COOKIE, "")
    claimed = session.peek(value)
    if claimed is not None:
        now = datetime.now(UTC)
        await request.app.state.runtime.console_signouts.sign_out(
            session.digest(value), datetime.fromtimestamp(claimed.expires, UTC), now)
    response = envelope(request, 200, {"signed_out": True})
    response.delete_cookie(session.COOKIE, path="/console")
    return response


async def snapshot(request: Request, account: Account) -> dict[str, Any]:
    """What the console shows live: the account's load and limits, its newest legs and bridges."""
    runtime = request.app.state.runtime
    summary = await accounts.account_view(request, account)
    page, _ = await runtime.legs.page(account, limit=50)
    bridges = await runtime.bridges.recent(account)
    return {"account": summary, "legs": [leg_resource(leg) for leg in page],
            "bridges": [bridge_resource(bridge) for bridge in bridges]}


@router.get("/stream")
async def stream(request: Request, account: Account = Depends(console_account)) -> StreamingResponse:
    """Server-sent events: a `snapshot` whenever anything shown changed."""

    async def events() -> AsyncIterator[str]:
        yield "retry: 500\n\n"
        last, ends = "", time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not await request.is_disconnected():
            text = json.dumps(await snapshot(request, account), separators=(",", ":"))
            yield f"event: snapshot\ndata: {text}\n\n" if text != last else ": idle\n\n"
            last = text
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/legs/{leg_sid}")
async def timeline(request: Request, leg_sid: str, account: Account = Depends(console_account)) -> JSONResponse:
    """The leg and its events, each with every delivery attempt."""
    runtime = request.app.state.runtime
    leg = await runtime.legs.get(account, leg_sid)
    rows = await runtime.events.list(account, leg_sid)
    return envelope(request, 200, {"leg": leg_resource(leg), "events": [legs._event_view(r) for r in rows]})


@router.post("/legs", status_code=202, dependencies=[Depends(_same_site)])
async def test_call(request: Request, body: CreateLeg = Body(...),
                    account: Account = Depends(console_account)) -> JSONResponse:
    """Place a test call (sandbox only), exactly as `POST /v2/accounts/{sid}/legs` does."""
    if request.app.state.runtime.settings.network != "sandbox":
        raise NotFound("test calls are placed on the sandbox only")
    return await legs.create_leg(request, body, account)


@router.post("/legs/{leg_sid}/actions", status_code=202, dependencies=[Depends(_same_site)])
async def act(request: Request, leg_sid: str, body: LegAction = Body(...),
              account: Account = Depends(console_account)) -> JSONResponse:
    """Act on a live leg (the timeline's Hang up button), exactly as the API's leg actions do."""
    return await legs.act_on_leg(request, leg_sid, body, account)


@router.get("/recordings/{file_name}")
async def recording(request: Request, file_name: str, account: Account = Depends(console_account)) -> Response:
    return await legs.get_recording(request, file_name, account)
