"""Routes for calls (a call_sid and its legs) and the RingCentral-style call log."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from legato.api.auth import current_account
from legato.api.edge import EdgeRoute
from legato.api.envelope import CONFLICT, ERROR_RESPONSES, dialect_response
from legato.api.legs import FORMAT_QUERY, Format
from legato.api.params import UtcDateTime
from legato.dialects import formats, ringcentral
from legato.domain.account import Account

router = APIRouter(prefix="/v2/accounts/{account_sid}", tags=["calls"], route_class=EdgeRoute)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


@router.get("/calls/{call_sid}", responses={**ERROR_RESPONSES, **CONFLICT},
            summary="Read a call and its legs, in any dialect")
async def get_call(request: Request, call_sid: str, account: Account = Depends(current_account),
                   format: Format = FORMAT_QUERY) -> Response:
    call = await _runtime(request).calls.get(account, call_sid)
    uri = str(request.url_for("get_call", account_sid=account.account_sid, call_sid=call_sid))
    return dialect_response(request, format, formats.render_call(format, call, uri))


@router.get("/call-log", responses=ERROR_RESPONSES,
            summary="Call log: RingCentral CallLogResponse records (with legs in the Detailed view)")
async def call_log(
    request: Request,
    account: Account = Depends(current_account),
    view: Literal["Simple", "Detailed"] = "Simple",
    date_from: UtcDateTime | None = Query(None, description="ISO 8601, inclusive (leg creation)"),
    date_to: UtcDateTime | None = Query(None, description="ISO 8601, exclusive"),
    result: str | None = Query(None, max_length=64, description="RingCentral result, e.g. Accepted, Busy"),
    direction: Literal["Inbound", "Outbound"] | None = None,
    page: int = Query(1, ge=1, le=100_000),
    per_page: int = Query(100, ge=1, le=1000, alias="perPage"),
) -> Response:
    calls, total = await _runtime(request).calls.log(account, date_from=date_from, date_to=date_to,
                                                     direction=direction, result=result, page=page,
                                                     per_page=per_page)
    records = [ringcentral.render_call(call, _record_uri(request, account, call.call_sid), view) for call in calls]
    body = ringcentral.render_call_log(records, str(request.url), page, per_page, total)
    return dialect_response(request, "ringcentral", body)


def _record_uri(request: Request, account: Account, call_sid: str) -> str:
    return str(request.url_for("get_call", account_sid=account.account_sid, call_sid=call_sid)) + "?format=ringcentral"
