"""The one create of a leg (`POST /v2/accounts/{account_sid}/legs`): its route's handler, which
`api/fast_legs.py` also calls, straight from ASGI, for the creates it takes.

The route is declared on FastAPI as any other (`api/legs.py` `create_leg`: the OpenAPI document shows its
body, its security and its answers) and passes the edge as any other (`api/edge.py`: text the database cannot
store, the credentials, the body read as JSON, an Idempotency-Key). Behind the edge, instead of FastAPI's
generic handler (its dependency solving and body validation, most of a create's cost outside the use-case),
`create` does what that handler does for this one route, in its order and with its errors: the body as
FastAPI reads a JSON body (an unparsable one is its `json_invalid` at the error's position), the route's
dependencies (`taking_legs`: draining; `current_account`, which the edge already authenticated), the body
validated as FastAPI validates it (`CreateLeg`, errors located under `body`), then the endpoint.
`tests/api/test_create_paths.py` holds it to FastAPI's own handler of the same declaration.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from legato.api.auth import authenticate
from legato.api.draining import taking_legs
from legato.api.edge import EdgeRoute, Handler
from legato.app.legs import CreateLeg

_EMPTY = object()
"""An empty body (FastAPI then has no body to validate: the body is missing)."""


class CreateLegRoute(EdgeRoute):
    """The create route: the edge, then `create` (see the module's docstring)."""

    def endpoint_handler(self) -> Handler:
        endpoint = self.endpoint

        async def create(request: Request) -> Response:
            body = await _body(request)
            await taking_legs(request)
            account = await authenticate(request)
            return await endpoint(request=request, body=validated(body), account=account)

        return create


async def _body(request: Request) -> Any:
    """The body as FastAPI's handler reads a JSON one (`JsonBodies` makes every body JSON): `_EMPTY` when
    there is none; its errors when it is not JSON."""
    if not await request.body():
        return _EMPTY
    try:
        return await request.json()
    except json.JSONDecodeError as e:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", e.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": e.msg}}], body=e.doc) from e
    except HTTPException:
        raise
    except Exception as e:  # not UTF-8, UTF-16 or UTF-32
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e


def validated(body: Any) -> CreateLeg:
    """The body as a `CreateLeg`, validated as FastAPI validates a route's one body parameter."""
    if body is _EMPTY:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        return CreateLeg.model_validate(body, from_attributes=True)
    except ValidationError as exc:
        raise RequestValidationError([{**error, "loc": ("body", *error["loc"])}
                                      for error in exc.errors(include_url=False)], body=body) from None
