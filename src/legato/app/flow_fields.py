"""Where call flows start: the create fields `flow_url` and friends, checked and kept in the leg's extra."""

from __future__ import annotations

from typing import Any

from legato.events.endpoints import EndpointPolicy, parse_url

FLOW_METHODS = ("POST", "GET")
CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")


async def check_flow_url(url: str, field: str, endpoints: EndpointPolicy) -> str:
    """An http(s) URL the endpoint policy allows (400 naming `field` otherwise); the fragment (#ct, #rc...)
    is kept: it tunes timeouts and retries as Twilio's does."""
    parse_url(url.split("#", 1)[0], field, ("http", "https"))
    await endpoints.check(url.split("#", 1)[0], field)
    return url


async def flow_extra(fields: dict[str, Any], endpoints: EndpointPolicy) -> dict[str, Any]:
    """The leg's `flow` extra from the create fields that are set (empty when none is)."""
    flow: dict[str, Any] = {}
    if fields.get("flow_url"):
        flow["url"] = await check_flow_url(fields["flow_url"], "flow_url", endpoints)
        flow["method"] = fields.get("flow_method") or "POST"
    if fields.get("flow_fallback_url"):
        flow["fallback_url"] = await check_flow_url(fields["flow_fallback_url"], "flow_fallback_url", endpoints)
    if fields.get("status_callback"):
        flow["status_callback"] = await check_flow_url(fields["status_callback"], "status_callback", endpoints)
        flow["status_callback_method"] = fields.get("status_callback_method") or "POST"
        flow["status_callback_event"] = list(fields.get("status_callback_event") or ["completed"])
    return flow


def inbound_flow(url: str | None) -> dict[str, Any]:
    """The `flow` extra of an inbound leg whose number (or account) has a flow URL (checked when it was set)."""
    return {"url": url, "method": "POST"} if url else {}
