"""Routes for legs: create, list, read, act, events; and the sandbox's simulated inbound calls."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from legato.api.auth import current_account
from legato.api.draining import taking_legs
from legato.api.edge import EdgeRoute
from legato.api.envelope import CONFLICT, ERROR_RESPONSES, LIMITED, UNAVAILABLE, dialect_response, envelope
from legato.api.leg_create import CreateLegRoute
from legato.api.params import UtcDateTime
from legato.app.legs import CreateLeg, LegAction, SandboxIncoming
from legato.dialects import formats
from legato.dialects.exotel import leg_resource
from legato.domain.account import Account
from legato.domain.errors import NotFound
from legato.domain.events import iso

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["legs"], route_class=EdgeRoute)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


async def create_leg(request: Request, body: CreateLeg = Body(...),
                     account: Account = Depends(current_account)) -> JSONResponse:
    leg = await _runtime(request).legs.create(account, body)
    return envelope(request, 202, leg_resource(leg))


# declared as the decorator would, on the route class whose handler is the one create (api/leg_create.py)
router.add_api_route("/legs", create_leg, methods=["POST"], status_code=202,
                     responses={**ERROR_RESPONSES, **LIMITED, **UNAVAILABLE}, dependencies=[Depends(taking_legs)],
                     summary="Create an outbound leg (dial)", route_class_override=CreateLegRoute)


@router.get("/legs", responses=ERROR_RESPONSES, summary="List legs, newest first")
async def list_legs(
    request: Request,
    account: Account = Depends(current_account),
    state: Literal["created", "enqueued", "connecting", "ringing", "connected", "terminal"] | None = None,
    direction: Literal["inbound", "outbound"] | None = None,
    date_from: UtcDateTime | None = Query(None, description="ISO 8601, inclusive"),
    date_to: UtcDateTime | None = Query(None, description="ISO 8601, exclusive"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=512),
) -> JSONResponse:
    legs, next_cursor = await _runtime(request).legs.page(
        account, state=state, direction=direction, date_from=date_from, date_to=date_to, limit=limit,
        cursor=cursor)
    return envelope(request, 200, {"legs": [leg_resource(leg) for leg in legs], "next_cursor": next_cursor})


Format = Literal[formats.FORMATS]  # type: ignore[valid-type]
FORMAT_QUERY = Query("exotel", description="exotel (Legato's own, in the envelope), or messagebird, telefonie, "
                     "ringcentral: that provider's object, bare (see docs/dialects.md)")


@router.get("/legs/{leg_sid}", responses={**ERROR_RESPONSES, **CONFLICT}, summary="Read a leg, in any dialect")
async def get_leg(request: Request, leg_sid: str, account: Account = Depends(current_account),
                  format: Format = FORMAT_QUERY) -> Response:
    leg = await _runtime(request).legs.get(account, leg_sid)
    return dialect_response(request, format, formats.render_leg(format, leg))


@router.post("/legs/{leg_sid}/actions", status_code=202, responses={**ERROR_RESPONSES, **CONFLICT, **UNAVAILABLE},
             summary="Act on a live leg: hangup, answer; on a connected leg redirect (its call flow), play, say, "
                     "stop_play, start_recording, stop_recording, gather, send_digits, mute, unmute, hold, unhold, "
                     "start_stream, stop_stream, transfer (blind or attended, docs/transfers.md)")
async def act_on_leg(request: Request, leg_sid: str, body: LegAction = Body(...),
                     account: Account = Depends(current_account)) -> JSONResponse:
    leg, result = await _runtime(request).legs.act_with_result(account, leg_sid, body)
    data = leg_resource(leg)
    if result:
        data["action_result"] = result
    return envelope(request, 202, data)


RECORDING_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}\.wav$")


@router.get("/recordings/{file_name}", responses=ERROR_RESPONSES, response_class=FileResponse,
            summary="A recording of one of the account's legs (WAV), as linked by recording_url")
async def get_recording(request: Request, file_name: str, account: Account = Depends(current_account)) -> Response:
    path = _runtime(request).recordings_root / account.account_sid / file_name
    if not RECORDING_NAME.match(file_name) or not await asyncio.to_thread(path.is_file):
        raise NotFound("no such recording", field="file_name")
    return FileResponse(path, media_type="audio/wav")


@router.get("/legs/{leg_sid}/external-events", responses=ERROR_RESPONSES,
            summary="The leg's events in order, with delivery status and every delivery attempt")
async def leg_events(request: Request, leg_sid: str, account: Account = Depends(current_account)) -> JSONResponse:
    rows = await _runtime(request).events.list(account, leg_sid)
    return envelope(request, 200, {"events": [_event_view(r) for r in rows]})


@router.post("/legs/{leg_sid}/external-events/{event_sid}/redeliver", status_code=202,
             responses={**ERROR_RESPONSES, **CONFLICT}, summary="Send one event again (same event_sid)")
async def redeliver_event(request: Request, leg_sid: str, event_sid: str,
                          account: Account = Depends(current_account)) -> JSONResponse:
    row = await _runtime(request).events.redeliver(account, leg_sid, event_sid)
    return envelope(request, 202, _event_view(row))


def _event_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"sequence": row["sequence"], "event_sid": row["event_sid"], "event_name": row["event_name"],
            "event_type": row["event_type"], "payload": row["payload"], "endpoint": row["endpoint"],
            "delivery": {"status": row["status"], "attempts": row["attempts"],
                         "next_attempt_at": iso(row["next_attempt_at"]),
                         "delivered_at": iso(row["delivered_at"])},
            "attempts": [_attempt_view(a) for a in row.get("delivery_attempts", ())]}


def _attempt_view(row: dict[str, Any]) -> dict[str, Any]:
    return {"attempt": row["attempt"], "attempted_at": iso(row["attempted_at"]), "endpoint": row["endpoint"],
            "outcome": row["outcome"], "status_code": row["status_code"], "status": row["status"],
            "latency_ms": row["latency_ms"], "error": row["error"]}


@router.post("/sandbox/incoming", status_code=202, responses={**ERROR_RESPONSES, **CONFLICT, **UNAVAILABLE},
             dependencies=[Depends(taking_legs)],
             summary="Sandbox only: make an inbound call arrive at one of the account's exophones")
async def sandbox_incoming(request: Request, body: SandboxIncoming = Body(...),
                           account: Account = Depends(current_account)) -> JSONResponse:
    runtime = _runtime(request)
    if runtime.settings.network != "sandbox":
        raise NotFound("the sandbox is not this server's network")
    leg = await runtime.legs.sandbox_incoming(account, body)
    return envelope(request, 202, leg_resource(leg))
