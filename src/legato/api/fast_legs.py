"""`POST /v2/accounts/{sid}/legs` without the middleware stack and the router: the hot route from ASGI.

The create is one function, the create route's handler (`api/leg_create.py`: the edge's checks, then what
FastAPI's handler would do, then the endpoint); the router calls it for the route and this middleware, the
outermost of Legato's, calls it for the creates it takes, behind the same parts of the stack that apply to a
create: `BodyLimit`, `AccessLog` (its access line and metrics) and an `ExceptionMiddleware` with the
application's handlers. It leaves to the stack only what it cannot answer there: a create `ClusterRouting`
would send to another node, and one before the runtime started.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from legato.api import legs
from legato.api.access_log import AccessLog
from legato.api.edge import BodyLimit
from legato.api.leg_create import CreateLegRoute
from legato.cluster.routing import ROUTED

_CREATE = re.compile(r"^/v2/accounts/([^/]+)/legs$")


class LegCreates:
    """ASGI middleware answering leg creates itself (see the module's docstring); `max_bytes` is the body
    limit, `handlers` the application's exception handlers (`FastAPI.exception_handlers`)."""

    def __init__(self, app: ASGIApp, max_bytes: int, handlers: Mapping[Any, Any]) -> None:
        self.app = app
        self._route = next(r for r in legs.router.routes if isinstance(r, CreateLegRoute))
        self._create = self._route.get_route_handler()
        # as Starlette builds its stack: 500 and Exception are ServerErrorMiddleware's (outside this one)
        inner = {kind: handler for kind, handler in handlers.items() if kind not in (500, Exception)}
        self._answer = BodyLimit(AccessLog(ExceptionMiddleware(self._respond, handlers=inner)), max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CREATE.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        runtime = getattr(scope["app"].state, "runtime", None) if match else None
        if runtime is None or (runtime.cluster is not None and not scope.get(ROUTED)):
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {"account_sid": match[1]}  # type: ignore[index]  # as the router matches them
        scope["route"] = self._route
        await self._answer(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._create(Request(scope, receive))
        await response(scope, receive, send)
