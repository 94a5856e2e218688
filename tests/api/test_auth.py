"""Authentication and account isolation: one account never sees or touches another's legs."""

from __future__ import annotations

import subprocess

import httpx

from tests.legato_server import Api


def test_missing_and_wrong_credentials_are_401(api: Api) -> None:
    url = api.server.url + api.base + "/legs"
    assert httpx.get(url).status_code == 401
    wrong = httpx.get(url, auth=(api.account.api_key, "tok_wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["response"]["error_data"]["code"] == "unauthorized"
    assert "basic" in wrong.headers["www-authenticate"].lower()


def test_other_accounts_legs_are_invisible_and_untouchable(api: Api) -> None:
    other = Api(api.server, api.server.create_account("--exophone", "08030752401"))
    mine = api.create_leg("09163810002").json()["response"]["data"]["leg_sid"]
    # the other account, with its own valid credentials, sees a plain 404, like an unknown leg
    assert other.http.get(f"{other.base}/legs/{mine}").status_code == 404
    assert other.http.get(f"{other.base}/legs/unknown-leg").status_code == 404
    assert other.http.get(f"{other.base}/legs/{mine}").json() ["response"]["error_data"] == \
        other.http.get(f"{other.base}/legs/unknown-leg").json()["response"]["error_data"]
    assert other.action(mine, action="hangup").status_code == 404
    assert other.http.get(f"{other.base}/legs/{mine}/external-events").status_code == 404
    listed = other.http.get(other.base + "/legs").json()["response"]["data"]["legs"]
    assert mine not in {leg["leg_sid"] for leg in listed}
    # its credentials do not open the first account's path either
    crossed = httpx.get(api.server.url + api.base + "/legs", auth=other.account.auth)
    assert crossed.status_code == 401
    reference = other.create_leg("09163816621", exophone="08030752401", reference_leg_sid=mine)
    assert reference.status_code == 400
    assert reference.json()["response"]["error_data"]["field"] == "reference_leg_sid"
    assert api.leg(mine)["state"] != "terminal"
    api.action(mine, action="hangup")


def test_credentials_are_not_stored_in_clear(api: Api) -> None:
    url = api.server.database_url
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            dump = "\n".join(conn.iterdump())
    else:
        dump = subprocess.run(["pg_dump", url.replace("postgresql+asyncpg://", "postgresql://")],
                              capture_output=True, text=True, check=True, timeout=60).stdout
        assert "token_hash" in dump
    assert api.account.api_token not in dump
    assert api.account.webhook_secret not in dump
