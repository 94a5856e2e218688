"""Routes for the account itself: its limits and current load (the operator may read it too)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasicCredentials

from legato.api.auth import authenticate, basic, bearer, bearer_token
from legato.api.edge import AccountOrAdminRoute, EdgeRoute
from legato.api.envelope import ERROR_RESPONSES, envelope
from legato.app.accounts import account_summary
from legato.domain.account import Account

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["accounts"], route_class=EdgeRoute)


async def account_or_operator(account_sid: str, request: Request,
                              credentials: HTTPBasicCredentials | None = Depends(basic),
                              token: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Account:
    """The account named in the path: itself (Basic), or read by the operator (Bearer, checked by the route)."""
    if bearer_token(request) is not None:
        return await request.app.state.runtime.accounts.get(account_sid)
    return await authenticate(request)


async def account_view(request: Request, account: Account) -> dict[str, Any]:
    """The account, its limits and its load on this node."""
    runtime = request.app.state.runtime
    live = await runtime.legs.legs.count_live(account.account_sid)
    settings = runtime.settings
    trunk = runtime.switchboard.network.name
    limits = {"cps": account.cps, "max_concurrent": account.max_concurrent,
              "trunk_cps": {trunk: settings.trunk_cps(account.account_sid, trunk)},
              "queue_max_length": settings.queue_max_length, "queue_max_wait": settings.queue_max_wait}
    return {**account_summary(account), "live_legs": live, "limits": limits,
            "queue_depth": runtime.throttle.depth(account.account_sid),
            "admitted_legs": runtime.throttle.active(account.account_sid),
            "inbound_legs": runtime.throttle.inbound_counted(account.account_sid)}


async def get_account(request: Request, account: Account = Depends(account_or_operator)) -> JSONResponse:
    return envelope(request, 200, await account_view(request, account))


router.add_api_route("", get_account, methods=["GET"], responses=ERROR_RESPONSES,
                     summary="The account, its limits and current load (its own credentials, or the admin token)",
                     route_class_override=AccountOrAdminRoute)
