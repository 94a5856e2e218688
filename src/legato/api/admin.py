"""The operator's routes (admin token as `Authorization: Bearer`): accounts, their credentials, exophones,
limits and inbound endpoint, and the rate table. Each translates to the same use-cases as the direct
database commands (`legato accounts ... --database-url`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from legato.api.auth import operator
from legato.api.edge import AdminRoute
from legato.api.envelope import CONFLICT, ERROR_RESPONSES, envelope
from legato.app.accounts import CLEARABLE, account_summary
from legato.app.admin import cancel_enqueued
from legato.domain.errors import NotFound

router = APIRouter(prefix="/v2", tags=["administration"], route_class=AdminRoute, dependencies=[Depends(operator)])
SID = r"^[A-Za-z0-9_\-]{3,64}$"
NUMBERS = Field(None, max_length=1000, description="numbers (any spelling, read in the account's region) or sip: URIs")


class CreateAccount(BaseModel):
    """Body of `POST /v2/accounts`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    account_sid: str | None = Field(None, pattern=SID, description="default: generated (AC...)")
    name: str | None = Field(None, min_length=1, max_length=200)
    exophones: list[str] | None = NUMBERS
    caller_ids: list[str] | None = NUMBERS
    cps: int | None = Field(None, description="calls per second, 1-10000; null: unlimited")
    max_concurrent: int | None = Field(None, description="live legs, 1-1000000; null: unlimited")
    inbound_endpoint: str | None = Field(None, max_length=2048, description="where inbound legs' events go")
    default_region: str | None = Field(None, description="ISO 3166 alpha-2 (default IN)")
    inbound_flow_url: str | None = Field(None, max_length=2048, description="the call flow inbound calls run")


class UpdateAccount(BaseModel):
    """Body of `PATCH /v2/accounts/{sid}`: fields left out stay as they are; `null` for `cps`, `max_concurrent`
    or `inbound_endpoint` removes the limit (unlimited) or the endpoint; lists replace the account's."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str | None = Field(None, min_length=1, max_length=200)
    exophones: list[str] | None = NUMBERS
    caller_ids: list[str] | None = NUMBERS
    cps: int | None = None
    max_concurrent: int | None = None
    inbound_endpoint: str | None = Field(None, max_length=2048)
    default_region: str | None = None
    amd_params: dict[str, Any] | None = Field(None, description="AMD overrides, merged into the account's")
    inbound_flow_url: str | None = Field(None, max_length=2048, description="the call flow inbound calls run "
                                         "('' removes it)")
    exophone_flows: dict[str, str] | None = Field(None, description="exophone -> its own call flow URL ('' "
                                                  "removes one)")


class Exophone(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=1, max_length=256, description="a number (any spelling) or a sip: URI")


class RateImport(BaseModel):
    """Body of `POST /v2/rates`: the CSV text (header `prefix,price_per_minute,currency,billing_increment
    [,description]`), validated whole before anything is stored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    csv: str = Field(min_length=1, max_length=10_000_000)
    source: str = Field("api", min_length=1, max_length=500, description="where it came from (a file name)")


def _accounts(request: Request) -> Any:
    return request.app.state.runtime.accounts


@router.post(
    "/accounts",
    status_code=201,
    responses={**ERROR_RESPONSES, **CONFLICT},
    summary="Create an account; the answer has its api_token and webhook_secret, shown only now",
)
async def create_account(request: Request, body: CreateAccount = Body(...)) -> JSONResponse:
    creds = await _accounts(request).create(
        sid=body.account_sid,
        name=body.name,
        cps=body.cps,
        max_concurrent=body.max_concurrent,
        inbound_endpoint=body.inbound_endpoint,
        exophones=body.exophones,
        caller_ids=body.caller_ids,
        default_region=body.default_region,
        inbound_flow_url=body.inbound_flow_url,
    )
    return envelope(request, 201, creds.as_dict())


@router.get("/accounts", responses=ERROR_RESPONSES, summary="List accounts (no secrets)")
async def list_accounts(request: Request) -> JSONResponse:
    accounts = await _accounts(request).all()
    return envelope(request, 200, {"accounts": [account_summary(a) for a in accounts]})


@router.patch(
    "/accounts/{account_sid}",
    responses=ERROR_RESPONSES,
    summary="Change an account: name, limits (null: unlimited), region, inbound endpoint, exophones, "
    "caller ids, AMD overrides",
)
async def update_account(request: Request, account_sid: str, body: UpdateAccount = Body(...)) -> JSONResponse:
    given = body.model_fields_set
    clear = [name for name in CLEARABLE if name in given and getattr(body, name) is None]
    changes = {name: getattr(body, name) for name in given if name not in clear}
    account = await _accounts(request).update(account_sid, clear=clear, **changes)
    return envelope(request, 200, account_summary(account))


@router.post(
    "/accounts/{account_sid}/disable",
    responses=ERROR_RESPONSES,
    summary="Disable an account: its API calls get 403, it places no legs (enqueued ones are canceled), "
    "calls to its exophones are refused; legs already up run on",
)
async def disable_account(request: Request, account_sid: str) -> JSONResponse:
    runtime = request.app.state.runtime
    account = await runtime.accounts.set_disabled(account_sid, True)
    canceled = await cancel_enqueued(runtime.legs, account)
    return envelope(request, 200, {**account_summary(account), "canceled_legs": canceled})


@router.post("/accounts/{account_sid}/enable", responses=ERROR_RESPONSES, summary="Enable a disabled account")
async def enable_account(request: Request, account_sid: str) -> JSONResponse:
    return envelope(request, 200, account_summary(await _accounts(request).set_disabled(account_sid, False)))


@router.post(
    "/accounts/{account_sid}/rotate-token",
    responses=ERROR_RESPONSES,
    summary="A new api_token (shown only now); the old one stops working",
)
async def rotate_token(request: Request, account_sid: str) -> JSONResponse:
    account, token = await _accounts(request).rotate_token(account_sid)
    return envelope(request, 200, {"account_sid": account_sid, "api_key": account.api_key, "api_token": token})


@router.post(
    "/accounts/{account_sid}/rotate-webhook-secret",
    responses=ERROR_RESPONSES,
    summary="A new webhook_secret (shown only now); every delivery attempt from now on is signed with it",
)
async def rotate_webhook_secret(request: Request, account_sid: str) -> JSONResponse:
    runtime = request.app.state.runtime
    secret = await runtime.accounts.rotate_webhook_secret(account_sid)
    runtime.dispatcher.forget_secret(account_sid)
    return envelope(request, 200, {"account_sid": account_sid, "webhook_secret": secret})


@router.get("/accounts/{account_sid}/exophones", responses=ERROR_RESPONSES, summary="The account's exophones")
async def list_exophones(request: Request, account_sid: str) -> JSONResponse:
    account = await _accounts(request).get(account_sid)
    return envelope(request, 200, {"account_sid": account_sid, "exophones": list(account.exophones)})


@router.post(
    "/accounts/{account_sid}/exophones",
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="Add an exophone to the account",
)
async def add_exophone(request: Request, account_sid: str, body: Exophone = Body(...)) -> JSONResponse:
    account = await _accounts(request).add_exophone(account_sid, body.number)
    return envelope(request, 201, {"account_sid": account_sid, "exophones": list(account.exophones)})


@router.delete(
    "/accounts/{account_sid}/exophones/{number}",
    responses=ERROR_RESPONSES,
    summary="Remove an exophone from the account (any spelling of the number)",
)
async def remove_exophone(request: Request, account_sid: str, number: str) -> JSONResponse:
    account = await _accounts(request).remove_exophone(account_sid, number)
    return envelope(request, 200, {"account_sid": account_sid, "exophones": list(account.exophones)})


@router.post(
    "/rates",
    status_code=201,
    responses=ERROR_RESPONSES,
    summary="Import a rate table (CSV); it is in force on every node within seconds",
)
async def import_rates(request: Request, body: RateImport = Body(...)) -> JSONResponse:
    imported = await request.app.state.runtime.rates.import_table(body.csv, body.source)
    return envelope(request, 201, imported.as_dict())


@router.get("/rates", responses=ERROR_RESPONSES, summary="The rate table in force")
async def list_rates(request: Request) -> JSONResponse:
    table = await request.app.state.runtime.rates.in_force()
    if table is None:
        raise NotFound("no rate table was imported", field="rates")
    return envelope(request, 200, table.as_dict())


@router.get(
    "/rates/export",
    responses={**ERROR_RESPONSES, 200: {"content": {"text/csv": {}}}},
    response_class=Response,
    summary="The rate table in force as CSV, exactly as it was imported",
)
async def export_rates(request: Request) -> Response:
    table = await request.app.state.runtime.rates.in_force()
    if table is None:
        raise NotFound("no rate table was imported", field="rates")
    return Response(table.csv, media_type="text/csv; charset=utf-8")
