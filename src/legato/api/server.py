"""The FastAPI application: routers, error mapping, and the runtime's start/stop."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from legato import __version__
from legato.api import accounts, admin, bridges, calls, conferences, console, legs, metrics
from legato.api.access_log import AccessLog
from legato.api.auth import authenticate
from legato.api.edge import BodyLimit
from legato.api.envelope import envelope, install_error_handlers, tidy_openapi
from legato.api.fast_legs import LegCreates
from legato.api.openapi import operation_id, publish_openapi
from legato.app.runtime import Runtime
from legato.cluster.lease import LeaseHeld
from legato.cluster.routing import ClusterRouting
from legato.config import Settings
from legato.flows.host import FlowHost
from legato.observability.logs import log_admin_token, log_start
from legato.store.database import RETRY_AFTER

log = logging.getLogger(__name__)


class JsonBodies:
    """ASGI middleware: every request body is read as JSON, whatever Content-Type says.

    `curl -d '{...}'` sends `application/x-www-form-urlencoded`; the API only speaks JSON, so a
    missing or wrong content type should not turn a good body into a 400.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            scope = dict(scope, headers=[*headers, (b"content-type", b"application/json")])
        await self.app(scope, receive, send)


async def _authorized(scope: Scope, account_sid: str) -> bool:
    """Whether the request carries this account's credentials (checked before a body is read)."""
    try:
        await authenticate(Request({**scope, "path_params": {"account_sid": account_sid}}))
    except Exception:  # refused, or the database is down: this node's API answers (401, 503...)
        return False
    return True


_DEFERRED = {("opentelemetry.trace", "ProxyTracerProvider"), ("opentelemetry.metrics._internal", "_ProxyMeterProvider"),
             ("opentelemetry._logs._internal", "ProxyLoggerProvider")}
"""OpenTelemetry's stand-ins for a provider nobody set (as FastAPI's telemetry tells them)."""


def fastapi_telemetry() -> dict[str, bool]:
    """FastAPI's own OpenTelemetry as FastAPI sets it when this process has OpenTelemetry set up (a provider set
    before the app is made, or FASTAPI_OTEL_AUTO_CONFIGURE=true); else off. It then does nothing, but asks for
    every request whether a provider was set since (three environment lookups, ~5-20 µs on this machine)."""
    if os.environ.get("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return {}
    from opentelemetry import _logs, metrics, trace  # FastAPI's dependency

    providers = (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    if any((type(p).__module__, type(p).__name__) not in _DEFERRED for p in providers):
        return {}
    return {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings) -> FastAPI:
    """A Legato API server for these settings."""

    async def start() -> None:
        """Start the runtime (store, lease, calls) once; a problem propagates to whoever started it
        (api/serving.py runs this before uvicorn's start-up, so `legato serve` ends with its reason)."""
        if getattr(app.state, "runtime", None) is not None:
            return
        runtime = Runtime(settings)
        flows = FlowHost.for_runtime(runtime)
        if runtime.cluster is not None:  # first: a node off the bus takes no lease and no legs
            await runtime.cluster.connect()
        try:
            await runtime.start()
        except LeaseHeld as exc:
            if runtime.cluster is not None:
                await runtime.cluster.stop()
            log.error("refusing to start: %s", exc)
            await runtime.db.dispose()
            raise
        app.state.runtime, app.state.flows = runtime, flows
        if runtime.cluster is not None:
            await runtime.cluster.start(app)
        log_start(settings)
        if runtime.new_admin_token is not None:
            log_admin_token(runtime.new_admin_token)
            runtime.new_admin_token = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await start()  # nothing to do when the server started it already
        try:
            yield
        finally:
            await app.state.flows.stop()
            await app.state.runtime.stop()

    app = FastAPI(title="Legato", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  generate_unique_id_function=operation_id, telemetry=fastapi_telemetry(),
                  description="Self-hosted programmable voice: call legs over SIP, events that are never lost.")
    app.state.start = start
    install_error_handlers(app)
    app.add_middleware(ClusterRouting, authorized=_authorized)  # commands about what another node holds go there
    app.add_middleware(AccessLog)  # inside JsonBodies, so it sees the route the router picked
    app.add_middleware(JsonBodies)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(legs.router)
    app.include_router(calls.router)
    app.include_router(accounts.router)
    app.include_router(admin.router)
    app.include_router(bridges.router)
    app.include_router(conferences.router)
    app.include_router(metrics.router)
    console.install(app)
    app.add_middleware(LegCreates, max_bytes=settings.max_body_bytes,  # POST /legs without the router (outermost)
                       handlers=app.exception_handlers)

    @app.get("/healthz", tags=["health"], summary="Liveness and the network in use")
    async def healthz(request: Request) -> JSONResponse:
        runtime = request.app.state.runtime
        return envelope(request, 200, {"status": "ok", "network": settings.network, "node": settings.node_name,
                                       "live_legs": len(runtime.switchboard.controllers)})

    @app.get("/readyz", tags=["health"], summary="Readiness: 200 when this node can take work, else 503",
             responses={503: {"description": "Not ready: `checks` says which check failed and why"}})
    async def readyz(request: Request) -> JSONResponse:
        ready, checks = await request.app.state.runtime.readiness.report()
        data = {"status": "ready" if ready else "not_ready", "node": settings.node_name, "checks": checks}
        headers = None if ready else {"Retry-After": str(RETRY_AFTER)}
        return envelope(request, 200 if ready else 503, data, headers=headers)

    tidy_openapi(app)
    publish_openapi(app)
    return app
