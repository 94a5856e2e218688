"""Text PostgreSQL cannot store (NUL, lone surrogates) is a 400 naming the field, never a 500 (issue 10, item 8).

Runs on SQLite and, with LEGATO_TEST_POSTGRES_URL, on PostgreSQL, where these used to be 500s."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.legato_server import Api

GOOD = {"contact_uri": "09163816621", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}


def _assert_400(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["response"]["error_data"]
    assert error["field"] == field
    assert "NUL" in error["message"]


@pytest.mark.parametrize(("change", "field"), [
    ({"custom_param": "order\u000042"}, "custom_param"),
    ({"reference_leg_sid": "\u0000"}, "reference_leg_sid"),
    ({"exophone": "0803075\u00002400"}, "exophone"),
    ({"amd_enable": True, "amd_params": {"greeting_ms": "\u0000"}}, "amd_params.greeting_ms"),
])
def test_nul_in_a_leg_field_is_400_naming_it(api: Api, change: dict[str, object], field: str) -> None:
    before = api.http.get(api.base + "/legs", params={"limit": 500}).json()["response"]["data"]["legs"]
    _assert_400(api.http.post(api.base + "/legs", json={**GOOD, **change}), field)
    after = api.http.get(api.base + "/legs", params={"limit": 500}).json()["response"]["data"]["legs"]
    assert len(after) == len(before)


def test_lone_surrogate_is_400(api: Api) -> None:
    raw = json.dumps(GOOD)[:-1] + ', "custom_param": "\\ud800"}'
    _assert_400(api.http.post(api.base + "/legs", content=raw.encode()), "custom_param")


def test_nul_in_bridge_leg_sids_is_400(api: Api) -> None:
    response = api.http.post(api.base + "/bridges", json={"leg_sids": ["a", "x\u0000"]})
    _assert_400(response, "leg_sids.1")


def test_nul_in_a_cursor_is_400(api: Api) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps({"before": "\u0000"}).encode()).decode().rstrip("=")
    response = api.http.get(api.base + "/legs", params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["response"]["error_data"]["field"] == "cursor"
    _assert_400(api.http.get(api.base + "/legs", params={"cursor": "\u0000"}), "cursor")


@pytest.mark.parametrize(("path", "field"), [
    ("/legs/a%00b", "leg_sid"), ("/legs/a%00b/external-events", "leg_sid"), ("/bridges/%00", "bridge_sid"),
    ("/calls/%00", "call_sid"), ("/legs/x/external-events/%00/redeliver", "event_sid"),
])
def test_nul_in_a_path_id_is_400(api: Api, path: str, field: str) -> None:
    method = "POST" if path.endswith("redeliver") else "GET"
    _assert_400(api.http.request(method, api.base + path), field)


def test_nul_in_the_basic_auth_user_is_400(api: Api) -> None:
    response = httpx.get(api.server.url + api.base + "/legs", auth=("key\u0000x", "tok"))
    _assert_400(response, "api_key")
