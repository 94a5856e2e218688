"""The response envelope, and the one place that maps errors to status codes."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from legato.dialects import encoding, formats
from legato.domain.errors import (
    Conflict,
    Forbidden,
    LegatoError,
    LimitExceeded,
    NotFound,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from legato.domain.ids import new_request_id
from legato.store.database import RETRY_AFTER, database_unavailable
from legato.store.writer import Fenced

log = logging.getLogger(__name__)

STATUS: dict[type[LegatoError], int] = {
    ValidationFailed: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409, LimitExceeded: 429,
    Unavailable: 503,
}


def envelope(request: Request, http_code: int, data: Any = None, error: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    """`{"request_id", "method", "http_code", "response": {"error_data", "data"}}`."""
    body = {"request_id": new_request_id(), "method": request.method, "http_code": http_code,
            "response": {"error_data": error, "data": data}}
    try:  # plain JSON types (what the resources are) need no walk through jsonable_encoder first
        return _Rendered(_render(body), status_code=http_code, headers=headers)
    except (TypeError, ValueError):
        return JSONResponse(jsonable_encoder(body), status_code=http_code, headers=headers)


_render = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
"""JSONResponse's own rendering (starlette's JSONResponse.render), as a str."""


class _Rendered(JSONResponse):
    """A JSONResponse whose content was rendered already."""

    def render(self, content: Any) -> bytes:
        return content.encode("utf-8") if isinstance(content, str) else super().render(content)


def dialect_response(request: Request, fmt: str, document: Any) -> Response:
    """Legato's own format in the envelope; another provider's format as that provider sends it (bare
    JSON, money as exact decimal numbers), so its clients parse it unchanged."""
    if fmt == formats.DEFAULT:
        return envelope(request, 200, document)
    return Response(encoding.dumps(document), status_code=200, media_type="application/json")


def error_data(code: str, message: str, *, field: str | None = None, description: str | None = None
               ) -> dict[str, Any]:
    return {"code": code, "message": message, "description": description or message, "field": field}


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _rule_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "missing":
        return "is required"
    if kind == "json_invalid":
        return "the body is not valid JSON"
    if kind == "model_attributes_type" or kind == "dict_type":
        return "the body must be a JSON object"
    return str(error.get("msg", "is invalid")).replace("Input should be", "must be")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to the envelope: no 422s, no bare 500s."""

    @app.exception_handler(LegatoError)
    async def _domain(request: Request, exc: LegatoError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        headers = {}
        retry_after = getattr(exc, "retry_after", None)  # LimitExceeded, Draining
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = exc.challenge
        return envelope(request, status, error=error_data(exc.code, exc.message, field=exc.field,
                                                          description=exc.description), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = tuple(first.get("loc", ()))
        if first.get("type") == "json_invalid":  # its loc is ("body", the character offset): no field
            at = next((p for p in loc if isinstance(p, int)), None)
            message = _rule_of(first) + (f" (at character {at})" if at is not None else "")
            return envelope(request, 400, error=error_data("invalid_parameter", message, field=None))
        field = _field_of(loc)
        rule = _rule_of(first)
        message = f"{field} {rule}" if field else rule
        return envelope(request, 400, error=error_data("invalid_parameter", message, field=field))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 413:  # the rest of the body is not read: do not keep the connection
            headers["Connection"] = "close"
        field = "body" if exc.status_code == 413 else None
        return envelope(request, exc.status_code, error=error_data(code, str(exc.detail), field=field), headers=headers)

    async def _infrastructure(request: Request, exc: Exception) -> JSONResponse:
        """Database errors: 503 with Retry-After while it is unreachable, full or read-only (handled here,
        not as a 500, so the client's connection stays open)."""
        if database_unavailable(exc):
            log.warning("database unavailable path=%s error=%s", request.url.path, exc)
            return await _domain(request, Unavailable("the database is unavailable; try again shortly",
                                                      retry_after=RETRY_AFTER))
        return await _unexpected(request, exc)

    for kind in (SQLAlchemyError, OSError):
        app.add_exception_handler(kind, _infrastructure)

    @app.exception_handler(Fenced)
    async def _fenced(request: Request, exc: Fenced) -> JSONResponse:
        """This node was taken over (cluster/takeover.py): it writes nothing more; another node answers."""
        log.warning("refused on a fenced node path=%s", request.url.path)
        return await _domain(request, Unavailable("this node was taken over by another; send the request to "
                                                  "another node", retry_after=RETRY_AFTER))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error path=%s", request.url.path)
        return envelope(request, 500, error=error_data("internal_error", "internal error"))


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad input: `error_data.field` names the field, `message` the rule"},
    401: {"description": "Missing or wrong credentials"},
    403: {"description": "Valid credentials that may not do this (a disabled account)"},
    404: {"description": "No such resource for this account"},
    413: {"description": "The request body is larger than the server accepts (max_body_bytes)"},
    503: {"description": "The database is unavailable for now; see Retry-After"},
}
CONFLICT = {409: {"description": "The leg's state does not allow this"}}
LIMITED = {429: {"description": "A limit was hit; see Retry-After"}}
UNAVAILABLE = {503: {"description": "A part of Legato the request needs (the database, the media engine) is "
                                    "down, or the server is draining before it stops; see Retry-After"}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "Send the same key again (within 24 h, same body) to get the first answer without acting "
                   "twice; another body with the same key is 409."}


def tidy_openapi(app: FastAPI) -> None:
    """Drop FastAPI's default 422 (Legato answers bad input with 400) from the published schema; document
    Idempotency-Key (and its 409) on every POST."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                responses = operation.get("responses", {})
                responses.pop("422", None)
                if method == "post":
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
                    responses.setdefault("409", {"description": "Idempotency-Key used with another request, "
                                                                "or its first request is still running"})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
