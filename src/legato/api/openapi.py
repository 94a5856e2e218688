"""The published API description: stable operationIds, response schemas with examples, the error envelope,
and `/docs` and `/redoc` served from bundled assets (no CDN)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from legato.api import examples

OPERATION_IDS = {
    "create_leg": "createLeg", "list_legs": "listLegs", "get_leg": "getLeg", "act_on_leg": "legAction",
    "get_recording": "getRecording", "leg_events": "listLegEvents", "redeliver_event": "redeliverLegEvent",
    "sandbox_incoming": "sandboxIncoming", "get_call": "getCall", "call_log": "getCallLog",
    "get_account": "getAccount", "create_bridge": "createBridge", "get_bridge": "getBridge",
    "act_on_bridge": "bridgeAction", "bridge_events": "listBridgeEvents", "healthz": "getHealth",
    "readyz": "getReadiness", "metrics": "getMetrics", "rotate_token": "rotateAccountToken",
    "rotate_webhook_secret": "rotateWebhookSecret",
    "create_conference": "createConference", "list_conferences": "listConferences",
    "get_conference": "getConference", "add_participant": "addConferenceParticipant",
    "act_on_participant": "conferenceParticipantAction", "act_on_conference": "conferenceAction",
    "conference_events": "listConferenceEvents",
}
SCHEMA_NAMES = {
    "createLeg": "Leg", "getLeg": "Leg", "legAction": "Leg", "sandboxIncoming": "Leg", "listLegs": "LegPage",
    "listLegEvents": "EventList", "listBridgeEvents": "EventList", "redeliverLegEvent": "Event",
    "createBridge": "Bridge", "getBridge": "Bridge", "bridgeAction": "Bridge", "getAccount": "Account",
    "getCall": "Call", "getHealth": "Health", "getReadiness": "Readiness", "getCallLog": "CallLog",
    "createAccount": "AccountCredentials", "listAccounts": "AccountList", "updateAccount": "AccountSummary",
    "enableAccount": "AccountSummary", "disableAccount": "DisabledAccount", "rotateAccountToken": "AccountToken",
    "rotateWebhookSecret": "WebhookSecret", "listExophones": "Exophones", "addExophone": "Exophones",
    "removeExophone": "Exophones", "importRates": "RateTable", "listRates": "RateTable",
    "createConference": "Conference", "getConference": "Conference", "addConferenceParticipant": "Conference",
    "conferenceParticipantAction": "Conference", "conferenceAction": "Conference",
    "listConferences": "ConferenceList", "listConferenceEvents": "EventList",
}
DIALECT_OPERATIONS = {"getLeg", "getCall"}  # ?format= other than exotel answers another provider's bare object
ERROR_DATA = {
    "type": "object", "required": ["code", "message", "description", "field"],
    "properties": {"code": {"type": "string", "example": "invalid_parameter"},
                   "message": {"type": "string", "example": "contact_uri is required"},
                   "description": {"type": "string"},
                   "field": {"type": ["string", "null"], "example": "contact_uri",
                             "description": "the offending field (dotted path), or null"}},
}
STATIC = "/docs-static"


def operation_id(route: APIRoute) -> str:
    """The stable operationId of a route: from the table, else its function name in camelCase."""
    if route.name in OPERATION_IDS:
        return OPERATION_IDS[route.name]
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def schema_of(value: Any) -> dict[str, Any]:
    """A JSON Schema (3.1) describing `value`'s shape; scalars may also be null, objects may have more."""
    if isinstance(value, bool):
        return {"type": ["boolean", "null"]}
    if isinstance(value, int):
        return {"type": ["integer", "null"]}
    if isinstance(value, float):
        return {"type": ["number", "null"]}
    if isinstance(value, str):
        return {"type": ["string", "null"]}
    if isinstance(value, dict):
        return {"type": ["object", "null"], "properties": {k: schema_of(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"type": ["array", "null"], "items": schema_of(value[0]) if value else {}}
    return {}


def envelope_schema(data: dict[str, Any], error: bool = False) -> dict[str, Any]:
    """Legato's envelope around `data` (or around an error)."""
    return {
        "type": "object", "required": ["request_id", "method", "http_code", "response"],
        "properties": {
            "request_id": {"type": "string"}, "method": {"type": "string"}, "http_code": {"type": "integer"},
            "response": {"type": "object", "required": ["error_data", "data"], "properties": {
                "error_data": {"$ref": "#/components/schemas/ErrorData"} if error else {"type": "null"},
                "data": {"type": "null"} if error else data}},
        },
    }


def _wrap(code: int, data: Any = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"request_id": "0ERnNUqQ4fJ0sV1d2X3y4Z5a6b700000", "method": "GET", "http_code": code,
            "response": {"error_data": error, "data": data}}


def _describe(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, which Legato never answers
        components.pop(unused, None)
    components["ErrorData"] = ERROR_DATA
    components["ErrorEnvelope"] = envelope_schema({}, error=True)
    data_examples = examples.data_examples()
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            op_id = operation.get("operationId")
            for status, response in operation.get("responses", {}).items():
                code = int(status)
                if code >= 400 and op_id != "getReadiness":
                    example = _wrap(code, error={"code": "not_found" if code == 404 else "invalid_parameter",
                                                 "message": response.get("description", ""),
                                                 "description": response.get("description", ""), "field": None})
                    response["content"] = {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}, "example": example}}
                    continue
                if op_id == "getRecording":
                    response["content"] = {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}
                if op_id == "exportRates":
                    response["content"] = {"text/csv": {"schema": {"type": "string"}, "example": examples.RATES_CSV}}
                name = SCHEMA_NAMES.get(op_id or "")
                bare = examples.BARE.get(op_id or "")
                if name is None:
                    continue
                value = bare() if bare else data_examples[op_id]
                if code == 503:  # not ready
                    value = {"status": "not_ready", "problems": {"drain": "draining"}}
                if name not in components:
                    components[name] = schema_of(value) if bare else envelope_schema(schema_of(value))
                ref: dict[str, Any] = {"$ref": f"#/components/schemas/{name}"}
                if op_id in DIALECT_OPERATIONS:
                    ref = {"anyOf": [ref, {"type": "object", "description": "another provider's shape (?format=)"}]}
                response.setdefault("content", {})["application/json"] = {"schema": ref,
                                                           "example": value if bare else _wrap(code, value)}


def publish_openapi(app: FastAPI) -> None:
    """Describe every response in the OpenAPI document and serve /docs and /redoc from bundled assets."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        described = app.openapi_schema is not None and "ErrorEnvelope" in str(app.openapi_schema.get("components"))
        schema = original()
        if not described:
            _describe(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    # fastapi-offline ships Swagger UI and ReDoc (and their licences); only its static folder is used
    app.mount(STATIC, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Legato API",
                                   swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{STATIC}/swagger-ui.css",
                                   swagger_favicon_url=f"{STATIC}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="Legato API",
                              redoc_js_url=f"{STATIC}/redoc.standalone.js", redoc_favicon_url=f"{STATIC}/favicon.png",
                              with_google_fonts=False)
