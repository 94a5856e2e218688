"""HTTP Basic authentication with the account's api_key:api_token."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from legato.domain.account import Account
from legato.domain.errors import Unauthorized

basic = HTTPBasic(auto_error=False, realm="legato")


async def current_account(account_sid: str, request: Request,
                          credentials: HTTPBasicCredentials | None = Depends(basic)) -> Account:
    """The authenticated account, which must be the one named in the path."""
    if credentials is None:
        raise Unauthorized("HTTP Basic credentials (api_key:api_token) are required")
    account = await request.app.state.runtime.accounts.authenticate(credentials.username, credentials.password)
    if account.account_sid != account_sid:
        raise Unauthorized("these credentials are not valid for this account")
    return account
