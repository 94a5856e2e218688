"""Bodies delivered as Twilio delivers a callback: form parameters sent with POST (or in a GET's query string)
and signed with X-Twilio-Signature (events/signature.py `sign_event`). Pure."""

from __future__ import annotations

from typing import Any

FORM = "twilio_form"  # the stored body {"twilio_form": {name: value}, "method": "POST" | "GET"}


def form_body(params: dict[str, str], method: str = "POST") -> dict[str, Any]:
    """The stored body of a callback sent as a form with `method`."""
    return {FORM: params, "method": method}


def form_of(body: dict[str, Any]) -> tuple[dict[str, str], str] | None:
    """(params, method) of a body made by `form_body`; None for a JSON body."""
    params = body.get(FORM)
    if not isinstance(params, dict):
        return None
    return {str(k): str(v) for k, v in params.items()}, "GET" if body.get("method") == "GET" else "POST"
