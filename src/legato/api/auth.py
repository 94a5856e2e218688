"""HTTP Basic authentication with the account's api_key:api_token."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from legato.domain.account import Account
from legato.domain.errors import Unauthorized
from legato.domain.text import check_storable

basic = HTTPBasic(auto_error=False, realm="legato")


async def authenticate(request: Request) -> Account:
    """The authenticated account, which must be the one named in the path; checked once per request
    (the API's routes call this before they read a body, see api/edge.py)."""
    account: Account | None = getattr(request.state, "account", None)
    if account is not None:
        return account
    credentials = await basic(request)
    if credentials is None:
        raise Unauthorized("HTTP Basic credentials (api_key:api_token) are required")
    check_storable(credentials.username, "api_key")
    check_storable(credentials.password, "api_token")
    account = await request.app.state.runtime.accounts.authenticate(credentials.username, credentials.password)
    if account.account_sid != request.path_params.get("account_sid"):
        raise Unauthorized("these credentials are not valid for this account")
    request.state.account = account
    return account


async def current_account(account_sid: str, request: Request,
                          credentials: HTTPBasicCredentials | None = Depends(basic)) -> Account:
    """The authenticated account (a dependency, so the OpenAPI document shows the path and the scheme)."""
    return await authenticate(request)
