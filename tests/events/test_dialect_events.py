"""Events in a leg's chosen dialect (`event_format`): same delivery guarantees, same signatures."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import jsonschema

from tests.events.conftest import leg_sid_of
from tests.events.receivers import HttpReceiver, verify
from tests.legato_server import Api


def schema(name: str) -> dict[str, Any]:
    loaded = json.loads(resources.files("legato").joinpath(f"schemas/{name}").read_text())
    loaded.pop("$id", None)
    return loaded


def test_bandwidth_leg_gets_bandwidth_callbacks_signed(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810007", leg_event_endpoint=receiver.url,
                                               event_format="bandwidth", custom_param="tag-1"))
    bodies = [r for r in receiver.wait_for(lambda got: any(
        (r.payload or {}).get("eventType") == "disconnect" for r in got))]
    payloads = [verify(events_api.account.webhook_secret, r) for r in bodies]
    assert [p["eventType"] for p in payloads] == ["answer", "disconnect"]
    for payload in payloads:
        jsonschema.validate(payload, schema("bandwidth_callback.json"))
        assert payload["callId"] == leg_sid and payload["tag"] == "tag-1"
    assert payloads[-1]["cause"] == "hangup"
    stored = events_api.events(leg_sid)
    assert [e["event_name"] for e in stored] == ["leg_connecting", "leg_ringing", "leg_answered", "leg_terminated"]
    assert [e["endpoint"] is None for e in stored] == [True, True, False, False]  # no Bandwidth counterpart


def test_telefonie_leg_gets_call_snapshots(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: HttpReceiver = receivers()
    leg_sid = leg_sid_of(events_api.create_leg("09163810001", leg_event_endpoint=receiver.url,
                                               event_format="telefonie"))
    got = receiver.wait_for(lambda got: any((r.payload or {}).get("status") == "busy" for r in got))
    payloads = [verify(events_api.account.webhook_secret, r) for r in got]
    assert [p["status"] for p in payloads] == ["queued", "busy"]
    for payload in payloads:
        jsonschema.validate(payload, schema("telefonie_call.json"))
        assert payload["id"] == leg_sid


def test_unknown_event_format_is_400(events_api: Api) -> None:
    response = events_api.create_leg("09163816621", event_format="xml")
    assert response.status_code == 400
    assert response.json()["response"]["error_data"]["field"] == "event_format"
