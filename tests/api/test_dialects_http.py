"""Legs, calls and the call log in every dialect, through the HTTP API (sandbox, time scale 50)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.dialects.support import validate
from tests.legato_server import Api

LEG_SCHEMAS = {"messagebird": "messagebird_leg.json", "telefonie": "telefonie_call.json",
               "ringcentral": "ringcentral_call_log_leg.json"}


@pytest.fixture(scope="module")
def ended(api: Api) -> dict[str, str]:
    """Legs that ended completed (answered, 5 s talk) and busy. The busy leg goes first: the server's first
    leg pays one-off start-up costs (~0.1 s of real time, 5 s at time scale 50) that would skew the talk time."""
    busy = api.wait_terminal(api.create_leg("09163810001").json()["response"]["data"]["leg_sid"])["leg_sid"]
    done = api.create_leg("09163810007", custom_param="order-42").json()["response"]["data"]["leg_sid"]
    return {"completed": api.wait_terminal(done)["leg_sid"], "busy": busy}


@pytest.mark.parametrize("fmt", sorted(LEG_SCHEMAS))
@pytest.mark.parametrize("outcome", ["completed", "busy"])
def test_leg_in_each_dialect_validates(api: Api, ended: dict[str, str], fmt: str, outcome: str) -> None:
    response = api.http.get(f"{api.base}/legs/{ended[outcome]}", params={"format": fmt})
    assert response.status_code == 200, response.text
    body = response.json(parse_float=Decimal)
    assert "request_id" not in body  # a provider's object, bare
    validate(LEG_SCHEMAS[fmt], body)


def test_leg_statuses_per_dialect(api: Api, ended: dict[str, str]) -> None:
    def get(fmt: str, outcome: str) -> dict:
        return api.http.get(f"{api.base}/legs/{ended[outcome]}", params={"format": fmt}).json()

    assert (get("messagebird", "completed")["status"], get("messagebird", "busy")["status"]) == ("hangup", "busy")
    assert (get("telefonie", "completed")["status"], get("telefonie", "busy")["status"]) == ("completed", "busy")
    assert get("telefonie", "completed")["duration"] == 5
    assert get("ringcentral", "busy")["result"] == "Busy"


def test_default_format_is_the_envelope(api: Api, ended: dict[str, str]) -> None:
    assert api.leg(ended["completed"])["leg_sid"] == ended["completed"]


def test_unknown_format_is_a_400(api: Api, ended: dict[str, str]) -> None:
    response = api.http.get(f"{api.base}/legs/{ended['busy']}", params={"format": "twilio"})
    assert response.status_code == 400
    assert response.json()["response"]["error_data"]["field"] == "format"


def test_sip_leg_as_telefonie_is_a_409(api: Api) -> None:
    created = api.create_leg("sip:alice@127.0.0.1", network_type="voip")
    assert created.status_code == 202, created.text
    leg_sid = created.json()["response"]["data"]["leg_sid"]
    response = api.http.get(f"{api.base}/legs/{leg_sid}", params={"format": "telefonie"})
    assert response.status_code == 409
    assert response.json()["response"]["error_data"]["code"] == "not_representable"
    api.action(leg_sid, action="hangup")


@pytest.mark.parametrize("fmt", ["exotel", "messagebird", "telefonie", "ringcentral"])
def test_call_in_each_dialect(api: Api, ended: dict[str, str], fmt: str) -> None:
    call_sid = api.leg(ended["completed"])["call_sid"]
    response = api.http.get(f"{api.base}/calls/{call_sid}", params={"format": fmt})
    assert response.status_code == 200, response.text
    body = response.json(parse_float=Decimal)
    if fmt == "exotel":
        assert [leg["leg_sid"] for leg in body["response"]["data"]["legs"]] == [ended["completed"]]
    elif fmt == "messagebird":
        assert body["data"][0]["id"] == call_sid and body["data"][0]["status"] == "ended"
        validate("messagebird_leg.json", body["legs"][0])
    elif fmt == "telefonie":
        validate("telefonie_call.json", body["calls"][0])
    else:
        validate("ringcentral_call_log_record.json", body)
        assert body["legs"][0]["master"] is True


def test_unknown_call_is_a_404(api: Api) -> None:
    assert api.http.get(f"{api.base}/calls/nope").status_code == 404


def test_call_log_views_and_filters(api: Api, ended: dict[str, str]) -> None:
    detailed = api.http.get(f"{api.base}/call-log", params={"view": "Detailed"}).json(parse_float=Decimal)
    assert detailed["paging"]["totalElements"] >= 2
    for record in detailed["records"]:
        validate("ringcentral_call_log_record.json", record)
        assert record["legs"]
    busy = api.http.get(f"{api.base}/call-log", params={"result": "Busy", "direction": "Outbound"}).json()
    assert busy["records"] and {r["result"] for r in busy["records"]} == {"Busy"}
    assert all("legs" not in r for r in busy["records"])
    page = api.http.get(f"{api.base}/call-log", params={"perPage": 1, "page": 2}).json()
    assert page["paging"]["page"] == 2 and len(page["records"]) == 1
    # a RingCentral client pages by following navigation.nextPage until it is absent
    seen, uri = [], f"{api.server.url}{api.base}/call-log?perPage=1"
    while uri:
        body = api.http.get(uri).json()
        seen += [r["id"] for r in body["records"]]
        uri = body["navigation"].get("nextPage", {}).get("uri")
    assert len(seen) == len(set(seen)) == page["paging"]["totalElements"]
    future = api.http.get(f"{api.base}/call-log", params={"date_from": "2999-01-01T00:00:00Z"}).json()
    assert future["records"] == [] and future["paging"]["totalElements"] == 0
    bad = api.http.get(f"{api.base}/call-log", params={"result": "Nope"})
    assert bad.status_code == 400 and json.loads(bad.text)["response"]["error_data"]["field"] == "result"
