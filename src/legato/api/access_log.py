"""ASGI middleware: one access-log line and the request metrics per HTTP request."""

from __future__ import annotations

import time

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from legato.api.openapi import operation_id
from legato.logformat import LineLogger

access_log = LineLogger("legato.access")
UNLOGGED = frozenset({"/metrics", "/healthz", "/readyz"})  # probes and scrapes: counted, not logged


class AccessLog:
    """Times each request, logs it (method, path, status, duration, account and leg) and counts it by its
    operationId; a refused `createLeg` also counts as a refused leg create."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.record(scope, status, time.perf_counter() - started)

    @staticmethod
    def record(scope: Scope, status: int, seconds: float) -> None:
        """The request's metrics and access line (`api/fast_legs.py` calls it for the creates it answers)."""
        route = scope.get("route")
        operation = operation_id(route) if isinstance(route, APIRoute) else getattr(route, "name", "unmatched")
        runtime = getattr(scope["app"].state, "runtime", None)
        metrics = getattr(runtime, "metrics", None)
        if metrics is not None:
            metrics.request(scope["method"], operation, status, seconds)
            if operation == "createLeg" and status >= 400:
                metrics.leg_refused()
        if scope["path"] in UNLOGGED:
            return
        params = scope.get("path_params") or {}
        client = scope.get("client")
        access_log.info("request", method=scope["method"], path=scope["path"], status=status,
                        duration_ms=round(seconds * 1000, 2), operation=operation,
                        client=f"{client[0]}:{client[1]}" if client else None,
                        account_sid=params.get("account_sid"), leg_sid=params.get("leg_sid"))
