"""`POST /v2/accounts/{sid}/legs` without the middleware stack and the router: the hot route from ASGI.

The create is one function, the create route's handler (`api/leg_create.py`: the edge's checks, then what
FastAPI's handler would do, then the endpoint); the router calls it for the route and this middleware, the
outermost of Legato's, calls it for the creates it takes, with what the stack around the route does for a
create: the body limit (`api/edge.py`: a body announced too large goes on to `BodyLimit`, one that grows too
large is cut off as there), the access line and the metrics (`AccessLog.record`), and an error answered by the
application's handler for it, through Starlette's own `ExceptionMiddleware` (an unhandled one reaches
`ServerErrorMiddleware`: 500, logged). It leaves to the stack a create `ClusterRouting` would send to another
node, and any before the runtime started.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api import legs
from legato.api.access_log import AccessLog
from legato.api.edge import announced_over, limited
from legato.api.leg_create import CreateLegRoute
from legato.cluster.routing import ROUTED

_CREATE = re.compile(r"^/v2/accounts/([^/]+)/legs$")


class LegCreates:
    """ASGI middleware answering leg creates itself (see the module's docstring); `max_bytes` is the body
    limit, `handlers` the application's exception handlers (`FastAPI.exception_handlers`)."""

    def __init__(self, app: ASGIApp, max_bytes: int, handlers: Mapping[Any, Any]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._route = next(r for r in legs.router.routes if isinstance(r, CreateLegRoute))
        self._create = self._route.get_route_handler()
        # as Starlette builds its stack: 500 and Exception are ServerErrorMiddleware's (outside this one)
        self._handlers = {kind: handler for kind, handler in handlers.items() if kind not in (500, Exception)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _CREATE.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        runtime = getattr(scope["app"].state, "runtime", None) if match else None
        if runtime is None or (runtime.cluster is not None and not scope.get(ROUTED)) \
                or announced_over(scope, self.max_bytes):  # BodyLimit answers 413
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {"account_sid": match[1]}  # type: ignore[index]  # as the router matches them
        scope["route"] = self._route
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            try:
                response = await self._create(Request(scope, limited(receive, self.max_bytes)))
            except Exception as exc:
                await self._refusal(exc)(scope, receive, send_status)
                return
            status = response.status_code
            await response(scope, receive, send)
        finally:
            AccessLog.record(scope, status, time.perf_counter() - started)

    def _refusal(self, exc: Exception) -> ASGIApp:
        """The answer to `exc` as the stack's `ExceptionMiddleware` gives it (or `exc` raised on)."""

        async def raises(scope: Scope, receive: Receive, send: Send) -> None:
            raise exc

        return ExceptionMiddleware(raises, handlers=self._handlers)
