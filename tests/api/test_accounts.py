"""Accounts as the API enforces them: caller ids the account owns, its region for national numbers, and numbers
compared in E.164 whichever way they are written (real `legato serve` processes, SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.legato_server import Api, LegatoServer
from tests.waiting import wait_for


def error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return response.json()["response"]["error_data"]


def account_view(api: Api) -> dict[str, Any]:
    response = api.http.get(api.base)
    assert response.status_code == 200, response.text
    return response.json()["response"]["data"]


def wait_view(api: Api, name: str, value: object, seconds: float = 15) -> None:
    """Wait until the server applies a change made with the CLI (it re-reads accounts within seconds)."""
    wait_for(lambda: account_view(api)[name], lambda now: now == value, seconds=seconds, what=f"{name} = {value!r}")


def test_outbound_caller_id_must_be_one_of_the_accounts_exophones(shared_server: LegatoServer) -> None:
    api = Api(shared_server, shared_server.create_account("--exophone", "08030752400"))
    stranger = error(api.create_leg("09163816621", exophone="08030752499"))  # a number the account does not own
    assert stranger["field"] == "exophone"
    assert "08030752499" in stranger["message"] and "+918030752400" in stranger["message"]
    other = Api(shared_server, shared_server.create_account("--exophone", "08030752401"))
    assert error(other.create_leg("09163816621", exophone="08030752400"))["field"] == "exophone"  # api's number
    sip_caller = error(api.create_leg("sip:bob@127.0.0.1:5099", network_type="voip", exophone="sip:ceo@bank.example"))
    assert sip_caller["field"] == "exophone"
    assert [leg for leg in api.http.get(api.base + "/legs").json()["response"]["data"]["legs"]] == []


def test_account_without_exophone_is_told_how_to_add_one(shared_server: LegatoServer) -> None:
    account = shared_server.create_account(exophone=None)
    api = Api(shared_server, account)
    refused = error(api.create_leg("09163816621"))
    assert refused["field"] == "exophone"
    assert f"legato accounts update {account.account_sid} --exophone" in refused["message"]


def test_operator_allows_extra_caller_ids(shared_server: LegatoServer) -> None:
    account = shared_server.create_account("--exophone", "08030752400", "--caller-id", "+14155550100")
    api = Api(shared_server, account)
    assert account_view(api)["caller_ids"] == ["+14155550100"]
    assert api.create_leg("09163810001", exophone="+1 415 555 0100").status_code == 202
    shared_server.cli("accounts", "update", account.account_sid, "--caller-id", "+442079460958")
    wait_view(api, "caller_ids", ["+442079460958"])
    assert error(api.create_leg("09163810001", exophone="+14155550100"))["field"] == "exophone"
    assert api.create_leg("09163810001", exophone="+442079460958").status_code == 202


@pytest.mark.parametrize("written", ["08030752400", "+918030752400", "918030752400", "080-3075-2400"])
def test_exophone_matches_however_it_is_written(shared_server: LegatoServer, written: str) -> None:
    api = Api(shared_server, shared_server.create_account("--exophone", "+918030752400"))
    created = api.create_leg("09163810001", exophone=written)
    assert created.status_code == 202, created.text
    assert created.json()["response"]["data"]["exophone"] == written  # stored as sent
    incoming = api.http.post(api.base + "/sandbox/incoming", json={"from": "09163816622", "to": written})
    assert incoming.status_code == 202, incoming.text


def test_national_numbers_are_read_in_the_accounts_region(shared_server: LegatoServer) -> None:
    account = shared_server.create_account("--region", "us", "--exophone", "415-555-0100")
    api = Api(shared_server, account)
    view = account_view(api)
    assert (view["default_region"], view["exophones"]) == ("US", ["+14155550100"])
    leg = api.create_leg("4155550123", exophone="4155550100")
    assert leg.status_code == 202, leg.text
    assert leg.json()["response"]["data"]["contact_uri_e164"] == "+14155550123"
    wrong = error(api.create_leg("09163816621", exophone="4155550100"))  # an Indian national number, read in US
    assert wrong["field"] == "contact_uri" and "US" in wrong["message"]
    india = Api(shared_server, shared_server.create_account("--exophone", "08030752400"))
    assert account_view(india)["default_region"] == "IN"  # the default, as before
    assert india.create_leg("09163816621").json()["response"]["data"]["contact_uri_e164"] == "+919163816621"
    shared_server.cli("accounts", "update", account.account_sid, "--region", "GB")
    wait_view(api, "default_region", "GB")
    assert api.create_leg("02079460958", exophone="+14155550100").json()["response"]["data"][
        "contact_uri_e164"] == "+442079460958"


def test_unknown_region_is_refused_naming_the_field(shared_server: LegatoServer) -> None:
    with pytest.raises(RuntimeError, match="default_region"):
        shared_server.create_account("--region", "XX")
