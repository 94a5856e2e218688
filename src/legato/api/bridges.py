"""Routes for bridges: join live legs, read a bridge and its events, stop it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from legato.api.auth import current_account
from legato.api.edge import EdgeRoute
from legato.api.envelope import CONFLICT, ERROR_RESPONSES, envelope
from legato.api.legs import _event_view as event_view  # one view of outbox rows for legs and bridges
from legato.app.bridges import BridgeAction, CreateBridge
from legato.dialects.bridges import bridge_resource
from legato.domain.account import Account

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["bridges"], route_class=EdgeRoute)


def _service(request: Request) -> Any:
    return request.app.state.runtime.bridges


@router.post("/bridges", status_code=201, responses={**ERROR_RESPONSES, **CONFLICT},
             summary="Bridge live, co-located legs")
async def create_bridge(request: Request, body: CreateBridge = Body(...),
                        account: Account = Depends(current_account)) -> JSONResponse:
    bridge = await _service(request).create(account, body)
    return envelope(request, 201, bridge_resource(bridge))


@router.get("/bridges/{bridge_sid}", responses=ERROR_RESPONSES, summary="Read a bridge")
async def get_bridge(request: Request, bridge_sid: str, account: Account = Depends(current_account)) -> JSONResponse:
    return envelope(request, 200, bridge_resource(await _service(request).get(account, bridge_sid)))


@router.post("/bridges/{bridge_sid}/actions", status_code=202, responses={**ERROR_RESPONSES, **CONFLICT},
             summary="Act on a bridge: stop (its legs stay up)")
async def act_on_bridge(request: Request, bridge_sid: str, body: BridgeAction = Body(...),
                        account: Account = Depends(current_account)) -> JSONResponse:
    bridge = await _service(request).act(account, bridge_sid, body)
    return envelope(request, 202, bridge_resource(bridge))


@router.get("/bridges/{bridge_sid}/external-events", responses=ERROR_RESPONSES,
            summary="The bridge's events in order, with delivery status")
async def bridge_events(request: Request, bridge_sid: str,
                        account: Account = Depends(current_account)) -> JSONResponse:
    rows = await _service(request).events(account, bridge_sid)
    return envelope(request, 200, {"events": [event_view(r) for r in rows]})
