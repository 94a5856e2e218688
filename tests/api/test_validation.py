"""Every validation rule answers 400 naming the field and the rule; nothing is half-written."""

from __future__ import annotations

import pytest

from tests.legato_server import Api

GOOD = {"contact_uri": "09163816621", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"contact_uri": None}, "contact_uri", "required"),
    ({"exophone": None}, "exophone", "required"),
    ({"leg_event_endpoint": None}, "leg_event_endpoint", "required"),
    ({"contact_uri": "12"}, "contact_uri", "phone number"),
    ({"contact_uri": "sip:bob@example.com"}, "network_type", "voip"),
    ({"network_type": "voip"}, "network_type", "sip: URI"),
    ({"network_type": "isdn"}, "network_type", "pstn"),
    ({"contact_uri": "sip:@@"}, "contact_uri", "SIP URI"),
    ({"exophone": "not a number"}, "exophone", "phone number"),
    ({"leg_event_endpoint": "ftp://x"}, "leg_event_endpoint", "http"),
    ({"leg_event_endpoint": "grpc://host"}, "leg_event_endpoint", "grpc://host:port"),
    ({"time_limit": 0}, "time_limit", "greater than"),
    ({"time_limit": 10**9}, "time_limit", "less than"),
    ({"timeout": "30"}, "timeout", "integer"),
    ({"ring_timeout": 1.5}, "ring_timeout", "integer"),
    ({"setup_timeout": True}, "setup_timeout", "integer"),
    ({"amd_enable": "yes"}, "amd_enable", "boolean"),
    ({"async_amd": True}, "async_amd", "amd_enable"),
    ({"priority": "urgent"}, "priority", "normal"),
    ({"requested_dc_code": "999"}, "requested_dc_code", "data centre"),
    ({"reference_leg_sid": "nope"}, "reference_leg_sid", "not a leg"),
    ({"colour": "blue"}, "colour", "not a known field"),
    ({"custom_param": 7}, "custom_param", "string"),
])
def test_bad_field_is_400_naming_it(api: Api, change: dict[str, object], field: str, words: str) -> None:
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    before = api.http.get(api.base + "/legs", params={"limit": 500}).json()["response"]["data"]["legs"]
    response = api.http.post(api.base + "/legs", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["response"]["error_data"]
    assert error["field"] == field
    assert words.lower() in error["message"].lower()
    after = api.http.get(api.base + "/legs", params={"limit": 500}).json()["response"]["data"]["legs"]
    assert len(after) == len(before)


@pytest.mark.parametrize("raw", [b"{not json", b"[1,2]", b"", b"null", b'"text"'])
def test_malformed_body_is_400(api: Api, raw: bytes) -> None:
    for path in ("/legs", "/legs/0ERnoSuchLeg/actions"):
        response = api.http.post(api.base + path, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        error = response.json()["response"]["error_data"]
        assert error["message"]
        assert error["field"] is None or not error["field"].isdigit(), error  # a field, never a character offset


def test_envelope_shape(api: Api) -> None:
    body = api.create_leg("09163816621").json()
    assert set(body) == {"request_id", "method", "http_code", "response"}
    assert (body["method"], body["http_code"]) == ("POST", 202)
    assert set(body["response"]) == {"error_data", "data"}
    assert len(body["request_id"]) == 32


@pytest.mark.parametrize(("number", "e164"), [("09163816621", "+919163816621"), ("919163816621", "+919163816621"),
                                              ("+919163816621", "+919163816621"), ("+14155552671", "+14155552671")])
def test_numbers_are_normalised_and_sent_form_kept(api: Api, number: str, e164: str) -> None:
    leg = api.create_leg(number).json()["response"]["data"]
    assert (leg["contact_uri"], leg["contact_uri_e164"]) == (number, e164)
    api.action(leg["leg_sid"], action="hangup")


def test_action_rules(api: Api) -> None:
    leg_sid = api.create_leg("09163810002").json()["response"]["data"]["leg_sid"]
    assert api.action(leg_sid, action="dance").status_code == 400
    answer = api.action(leg_sid, action="answer")
    assert answer.status_code == 409
    reason = api.action(leg_sid, action="hangup", reason="busy")
    assert reason.status_code == 400 and reason.json()["response"]["error_data"]["field"] == "reason"
    assert api.action(leg_sid, action="hangup").status_code == 202


def test_list_filters_and_cursor_pages_without_repeats(api: Api) -> None:
    sids = [api.create_leg("09163810003", custom_param=f"p{i}").json()["response"]["data"]["leg_sid"]
            for i in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        data = api.http.get(api.base + "/legs", params=params).json()["response"]["data"]
        seen += [leg["leg_sid"] for leg in data["legs"]]
        if len(seen) == 3:  # a leg created mid-listing must not shift later pages
            api.create_leg("09163810003")
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert set(sids) <= set(seen)
    assert seen == sorted(seen, reverse=True)
    bad = api.http.get(api.base + "/legs", params={"cursor": "garbage!"})
    assert bad.status_code == 400 and bad.json()["response"]["error_data"]["field"] == "cursor"
    bad_limit = api.http.get(api.base + "/legs", params={"limit": 0})
    assert bad_limit.status_code == 400 and bad_limit.json()["response"]["error_data"]["field"] == "limit"
    inbound = api.http.get(api.base + "/legs", params={"direction": "inbound", "limit": 500})
    assert all(leg["direction"] == "inbound" for leg in inbound.json()["response"]["data"]["legs"])


def test_json_body_without_json_content_type_is_accepted(api: Api) -> None:
    body = b'{"contact_uri": "09163810003", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}'
    response = api.http.post(api.base + "/legs", content=body,
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 202, response.text


@pytest.mark.parametrize("path", ["/legs", "/call-log"])
def test_dates_with_offsets_are_read_as_instants(api: Api, path: str) -> None:
    leg_sid = api.create_leg("09163810003").json()["response"]["data"]["leg_sid"]
    for edge in ("0001-01-01T00:00:00+10:04", "9999-12-31T23:59:59-05:00"):  # beyond UTC's years
        bad = api.http.get(api.base + path, params={"date_from": edge})
        assert bad.status_code == 400, bad.text
        assert bad.json()["response"]["error_data"]["field"] == "date_from"
    if path == "/legs":  # an offset names the same instant as its UTC form; no offset reads as UTC
        for since in ("2000-01-01T05:30:00+05:30", "2000-01-01T00:00:00"):
            legs = api.http.get(api.base + path, params={"date_from": since}).json()["response"]["data"]["legs"]
            assert leg_sid in [leg["leg_sid"] for leg in legs]
