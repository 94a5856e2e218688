"""Routes for the account itself: its limits and current load."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from legato.api.auth import current_account
from legato.api.edge import EdgeRoute
from legato.api.envelope import ERROR_RESPONSES, envelope
from legato.domain.account import Account
from legato.domain.events import iso

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["accounts"], route_class=EdgeRoute)


@router.get("", responses=ERROR_RESPONSES, summary="The account, its limits and current load")
async def get_account(request: Request, account: Account = Depends(current_account)) -> JSONResponse:
    runtime = request.app.state.runtime
    live = await runtime.legs.legs.count_live(account.account_sid)
    settings = runtime.settings
    trunk = runtime.switchboard.network.name
    limits = {"cps": account.cps, "max_concurrent": account.max_concurrent,
              "trunk_cps": {trunk: settings.trunk_cps(account.account_sid, trunk)},
              "queue_max_length": settings.queue_max_length, "queue_max_wait": settings.queue_max_wait}
    return envelope(request, 200, {
        "account_sid": account.account_sid, "name": account.name, "cps": account.cps,
        "max_concurrent": account.max_concurrent, "inbound_endpoint": account.inbound_endpoint,
        "default_region": account.default_region, "exophones": list(account.exophones),
        "caller_ids": list(account.caller_ids), "amd_params": account.amd_params,
        "inbound_flow_url": account.inbound_flow_url, "exophone_flows": account.exophone_flows,
        "live_legs": live, "created_at": iso(account.created_at),
        "limits": limits, "queue_depth": runtime.throttle.depth(account.account_sid),
        "admitted_legs": runtime.throttle.active(account.account_sid)})
