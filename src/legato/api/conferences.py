"""Routes for conferences: create, list, read, add legs, act on a participant, stop, read the events."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse

from legato.api.auth import current_account
from legato.api.edge import EdgeRoute
from legato.api.envelope import CONFLICT, ERROR_RESPONSES, envelope
from legato.api.legs import _event_view as event_view  # one view of outbox rows for legs, bridges, conferences
from legato.app.conferences import AddParticipant, ConferenceAction, CreateConference, ParticipantAction
from legato.dialects.conferences import conference_resource
from legato.domain.account import Account

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["conferences"], route_class=EdgeRoute)


def _service(request: Request) -> Any:
    return request.app.state.runtime.conferences


@router.post(
    "/conferences",
    status_code=201,
    responses={**ERROR_RESPONSES, **CONFLICT},
    summary="Create a conference (legs join it through .../participants)",
)
async def create_conference(
    request: Request, body: CreateConference = Body(...), account: Account = Depends(current_account)
) -> JSONResponse:
    conference = await _service(request).create(account, body)
    return envelope(request, 201, conference_resource(conference))


@router.get("/conferences", responses=ERROR_RESPONSES, summary="List conferences, newest first")
async def list_conferences(
    request: Request,
    account: Account = Depends(current_account),
    state: Literal["active", "completed"] | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> JSONResponse:
    found = await _service(request).recent(account, limit, state)
    return envelope(request, 200, {"conferences": [conference_resource(c) for c in found]})


@router.get("/conferences/{conference_sid}", responses=ERROR_RESPONSES, summary="Read a conference")
async def get_conference(
    request: Request, conference_sid: str, account: Account = Depends(current_account)
) -> JSONResponse:
    return envelope(request, 200, conference_resource(await _service(request).get(account, conference_sid)))


@router.post(
    "/conferences/{conference_sid}/participants",
    status_code=201,
    responses={**ERROR_RESPONSES, **CONFLICT},
    summary="Add a connected leg to a conference",
)
async def add_participant(
    request: Request, conference_sid: str, body: AddParticipant = Body(...), account: Account = Depends(current_account)
) -> JSONResponse:
    conference = await _service(request).add(account, conference_sid, body)
    return envelope(request, 201, conference_resource(conference))


@router.post(
    "/conferences/{conference_sid}/participants/{leg_sid}/actions",
    status_code=202,
    responses={**ERROR_RESPONSES, **CONFLICT},
    summary="Act on a participant: mute, unmute, hold, unhold, remove (its leg stays up)",
)
async def act_on_participant(
    request: Request,
    conference_sid: str,
    leg_sid: str,
    body: ParticipantAction = Body(...),
    account: Account = Depends(current_account),
) -> JSONResponse:
    conference = await _service(request).act_on_participant(account, conference_sid, leg_sid, body)
    return envelope(request, 202, conference_resource(conference))


@router.post(
    "/conferences/{conference_sid}/actions",
    status_code=202,
    responses={**ERROR_RESPONSES, **CONFLICT},
    summary="Act on a conference: stop (its legs stay up)",
)
async def act_on_conference(
    request: Request,
    conference_sid: str,
    body: ConferenceAction = Body(...),
    account: Account = Depends(current_account),
) -> JSONResponse:
    conference = await _service(request).act(account, conference_sid, body)
    return envelope(request, 202, conference_resource(conference))


@router.get(
    "/conferences/{conference_sid}/external-events",
    responses=ERROR_RESPONSES,
    summary="The conference's events in order, with delivery status",
)
async def conference_events(
    request: Request, conference_sid: str, account: Account = Depends(current_account)
) -> JSONResponse:
    rows = await _service(request).events(account, conference_sid)
    return envelope(request, 200, {"events": [event_view(r) for r in rows]})
