"""Who is calling: an account (HTTP Basic api_key:api_token, for its own routes) or the operator (the admin
token as `Authorization: Bearer`, for the administration routes). Neither reaches the other's routes."""

from __future__ import annotations

import binascii
from base64 import b64decode

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from legato.domain.account import Account
from legato.domain.errors import Unauthorized
from legato.domain.text import check_storable

basic = HTTPBasic(auto_error=False, realm="legato")
bearer = HTTPBearer(auto_error=False, scheme_name="adminToken",
                    description="The operator's admin token (shown once at the first start; "
                                "`legato admin token rotate` makes a new one)")
BEARER_CHALLENGE = 'Bearer realm="legato-admin"'
ADMIN_SCOPE = "~admin"  # the operator's Idempotency-Key scope (no account sid has a '~')


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer` header, or None when the request has another or none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(api_key, api_token) of an `Authorization: Basic` header value, read as `HTTPBasic` reads it; None when
    `HTTPBasic` would find none or refuse it (the caller then lets `authenticate` answer)."""
    scheme, _, param = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        data = b64decode(param.strip()).decode("ascii")
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        return None
    username, separator, password = data.partition(":")
    return (username, password) if separator else None


async def authenticate(request: Request) -> Account:
    """The authenticated account, which must be the one named in the path; checked once per request
    (the API's routes call this before they read a body, see api/edge.py)."""
    account: Account | None = getattr(request.state, "account", None)
    if account is not None:
        return account
    authorization = request.headers.get("authorization", "")
    pair = basic_credentials(authorization)
    if pair is None:  # none, another scheme or not readable: as HTTPBasic and the Bearer check answer
        if bearer_token(request) is not None:
            raise Unauthorized("account routes take the account's HTTP Basic credentials (api_key:api_token); "
                               "the admin token only manages accounts and rates", field="Authorization")
        credentials = await basic(request)
        if credentials is None:
            raise Unauthorized("HTTP Basic credentials (api_key:api_token) are required")
        pair = credentials.username, credentials.password
    api_key, api_token = pair
    check_storable(api_key, "api_key")
    check_storable(api_token, "api_token")
    account = await request.app.state.runtime.accounts.authenticate(api_key, api_token)
    if account.account_sid != request.path_params.get("account_sid"):
        raise Unauthorized("these credentials are not valid for this account")
    request.state.account = account
    return account


async def authenticate_admin(request: Request) -> None:
    """Pass when the request carries the operator's admin token, else Unauthorized saying what is needed."""
    if getattr(request.state, "admin", False):
        return
    token = bearer_token(request)
    if token is None:
        given = "account credentials are not accepted here" if "authorization" in request.headers \
            else "none was given"
        raise Unauthorized(f"this route needs the operator's admin token as Authorization: Bearer <token> ({given})",
                           field="Authorization", challenge=BEARER_CHALLENGE)
    check_storable(token, "Authorization")
    await request.app.state.runtime.admin.check(token)
    request.state.admin = True


async def current_account(account_sid: str, request: Request,
                          credentials: HTTPBasicCredentials | None = Depends(basic)) -> Account:
    """The authenticated account (a dependency, so the OpenAPI document shows the path and the scheme)."""
    return await authenticate(request)


async def operator(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    """The operator, by the admin token (a dependency, so the OpenAPI document shows the scheme)."""
    await authenticate_admin(request)
