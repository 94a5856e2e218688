"""The operator's routes on a real `legato serve` over HTTP: the admin token (shown once, hashed, rotated from the
host), accounts (create with credentials, list, update with limits set to none, disable, rotate token and webhook
secret), exophones and rate tables; account credentials and the admin token never reach each other's routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.events.receivers import HttpReceiver
from tests.legato_server import LegatoServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("admin")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(server: LegatoServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=10)


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()["response"]["data"]


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()["response"]["error_data"]


def test_create_answers_credentials_that_work_once(server: LegatoServer, admin: httpx.Client) -> None:
    created = data(
        admin.post("/v2/accounts", json={"account_sid": "crud1", "exophones": ["08030752400"], "cps": 5}), 201
    )
    assert created["api_token"].startswith("tok_") and created["webhook_secret"].startswith("whsec_")
    assert created["exophones"] == ["+918030752400"] and created["cps"] == 5
    own = httpx.get(f"{server.url}/v2/accounts/crud1", auth=(created["api_key"], created["api_token"]))
    assert data(own)["account_sid"] == "crud1"
    listed = data(admin.get("/v2/accounts"))["accounts"]
    assert next(a for a in listed if a["account_sid"] == "crud1")["api_key"] == created["api_key"]
    assert "api_token" not in json.dumps(listed) and "whsec_" not in json.dumps(listed)
    assert error(admin.post("/v2/accounts", json={"account_sid": "crud1"}), 409)["field"] == "account_sid"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"account_sid": "x"}, "account_sid", "pattern"),
        ({"cps": 0}, "cps", "between 1 and 10000"),
        ({"cps": "5"}, "cps", "integer"),
        ({"exophones": ["12"]}, "exophone", ""),
        ({"colour": "red"}, "colour", "not a known field"),
        ({"inbound_endpoint": "ftp://x"}, "inbound_endpoint", ""),
    ],
)
def test_bad_input_names_the_field_and_the_rule(
    admin: httpx.Client, body: dict[str, Any], field: str, words: str
) -> None:
    problem = error(admin.post("/v2/accounts", json=body), 400)
    assert problem["field"] == field and words in problem["message"]


def test_limits_can_be_set_and_removed(admin: httpx.Client) -> None:
    data(admin.post("/v2/accounts", json={"account_sid": "limits1", "cps": 2, "max_concurrent": 3}), 201)
    changed = data(
        admin.patch(
            "/v2/accounts/limits1", json={"cps": None, "max_concurrent": 9, "inbound_endpoint": "http://127.0.0.1:9/in"}
        )
    )
    assert (changed["cps"], changed["max_concurrent"], changed["inbound_endpoint"]) == (
        None,
        9,
        "http://127.0.0.1:9/in",
    )
    kept = data(admin.patch("/v2/accounts/limits1", json={"name": "Limits"}))
    assert (kept["name"], kept["cps"], kept["max_concurrent"]) == ("Limits", None, 9)
    cleared = data(admin.patch("/v2/accounts/limits1", json={"max_concurrent": None, "inbound_endpoint": None}))
    assert (cleared["max_concurrent"], cleared["inbound_endpoint"]) == (None, None)
    assert data(admin.get("/v2/accounts/limits1"))["limits"]["max_concurrent"] is None
    assert error(admin.patch("/v2/accounts/limits1", json={"max_concurrent": -1}), 400)["field"] == "max_concurrent"
    assert error(admin.patch("/v2/accounts/nobody", json={"cps": 1}), 404)["field"] == "account_sid"


def test_credentials_never_cross(server: LegatoServer, admin: httpx.Client) -> None:
    created = data(admin.post("/v2/accounts", json={"account_sid": "cross1"}), 201)
    basic = (created["api_key"], created["api_token"])
    for method, path in (("GET", "/v2/accounts"), ("POST", "/v2/accounts/cross1/rotate-token"), ("GET", "/v2/rates")):
        refused = httpx.request(method, server.url + path, auth=basic)
        assert error(refused, 401)["field"] == "Authorization"
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "admin token" in refused.json()["response"]["error_data"]["message"]
    legs = httpx.get(f"{server.url}/v2/accounts/cross1/legs", headers={"Authorization": admin.headers["Authorization"]})
    assert "HTTP Basic" in error(legs, 401)["message"]
    wrong = httpx.get(server.url + "/v2/accounts", headers={"Authorization": "Bearer adm_wrong"})
    assert error(wrong, 401)["message"] == "invalid admin token"
    assert error(httpx.get(server.url + "/v2/accounts"), 401)["field"] == "Authorization"


def test_disabled_account_gets_403_and_places_no_legs(server: LegatoServer, admin: httpx.Client) -> None:
    created = data(
        admin.post("/v2/accounts", json={"account_sid": "off1", "exophones": ["08030752400"], "max_concurrent": 1}), 201
    )
    auth = (created["api_key"], created["api_token"])
    leg = {"contact_uri": "09163816621", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}
    first = data(httpx.post(f"{server.url}/v2/accounts/off1/legs", json=leg, auth=auth), 202)
    waiting = data(httpx.post(f"{server.url}/v2/accounts/off1/legs", json=leg, auth=auth), 202)
    assert waiting["state"] == "enqueued"  # max_concurrent 1 and the first is up: the second waits for a slot
    disabled = data(admin.post("/v2/accounts/off1/disable"))
    assert disabled["disabled"] is True and disabled["canceled_legs"] == 1
    refused = httpx.post(f"{server.url}/v2/accounts/off1/legs", json=leg, auth=auth)
    assert error(refused, 403)["message"] == "account off1 is disabled by the operator"
    assert error(httpx.get(f"{server.url}/v2/accounts/off1/legs", auth=auth), 403)["code"] == "forbidden"
    data(admin.post("/v2/accounts/off1/enable"))
    legs = {x["leg_sid"]: x for x in data(httpx.get(f"{server.url}/v2/accounts/off1/legs", auth=auth))["legs"]}
    assert legs[waiting["leg_sid"]]["terminal_status"] == "canceled"
    data(
        httpx.post(
            f"{server.url}/v2/accounts/off1/legs/{first['leg_sid']}/actions", json={"action": "hangup"}, auth=auth
        ),
        202,
    )


def test_rotated_token_and_webhook_secret(server: LegatoServer, admin: httpx.Client) -> None:
    receiver = HttpReceiver()
    try:
        created = data(admin.post("/v2/accounts", json={"account_sid": "rot1", "exophones": ["08030752400"]}), 201)
        old = (created["api_key"], created["api_token"])
        token = data(admin.post("/v2/accounts/rot1/rotate-token"))
        assert token["api_key"] == created["api_key"] and token["api_token"] != created["api_token"]
        assert error(httpx.get(f"{server.url}/v2/accounts/rot1", auth=old), 401)["code"] == "unauthorized"
        new = (token["api_key"], token["api_token"])
        secret = data(admin.post("/v2/accounts/rot1/rotate-webhook-secret"))["webhook_secret"]
        assert secret.startswith("whsec_") and secret != created["webhook_secret"]
        leg = data(
            httpx.post(
                f"{server.url}/v2/accounts/rot1/legs",
                auth=new,
                json={"contact_uri": "09163810001", "exophone": "08030752400", "leg_event_endpoint": receiver.url},
            ),
            202,
        )
        receiver.wait_terminated(leg["leg_sid"], seconds=60)
        for item in receiver.accepted():
            Webhook(secret).verify(item.body, item.headers)  # signed with the new secret only
            with pytest.raises(Exception, match=r"(?i)signature"):
                Webhook(created["webhook_secret"]).verify(item.body, item.headers)
    finally:
        receiver.close()


def test_exophones_add_list_remove(admin: httpx.Client) -> None:
    data(admin.post("/v2/accounts", json={"account_sid": "exo1", "exophones": ["08030752400"]}), 201)
    added = data(admin.post("/v2/accounts/exo1/exophones", json={"number": "+91 80 3075 2401"}), 201)
    assert added["exophones"] == ["+918030752400", "+918030752401"]
    assert data(admin.get("/v2/accounts/exo1/exophones"))["exophones"] == added["exophones"]
    removed = data(admin.delete("/v2/accounts/exo1/exophones/08030752400"))  # another spelling of the number
    assert removed["exophones"] == ["+918030752401"]
    assert error(admin.delete("/v2/accounts/exo1/exophones/08030752400"), 404)["field"] == "number"
    assert error(admin.post("/v2/accounts/exo1/exophones", json={"number": "12"}), 400)["field"] == "number"


def test_rates_import_list_export(admin: httpx.Client) -> None:
    sample = (ROOT / "docs" / "rates-sample.csv").read_text()
    imported = data(admin.post("/v2/rates", json={"csv": sample, "source": "rates-sample.csv"}), 201)
    listed = data(admin.get("/v2/rates"))
    assert listed == imported and listed["source"] == "rates-sample.csv"
    assert {
        "prefix": "91",
        "price_per_minute": "0.0120",
        "currency": "INR",
        "billing_increment": "60/60",
        "description": "India",
    } in listed["rates"]
    exported = admin.get("/v2/rates/export")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text == sample
    bad = error(
        admin.post(
            "/v2/rates", json={"csv": "prefix,price_per_minute,currency,billing_increment\n91,0.1,rupees,60/60\n"}
        ),
        400,
    )
    assert "currency" in bad["message"]
    assert data(admin.get("/v2/rates")) == listed  # the refused table changed nothing


def test_admin_token_is_shown_once_and_rotated_from_the_host(make_server: Any) -> None:
    server = make_server().start()
    first = server.admin_token()
    assert first.startswith("adm_")
    assert "admin token created" in server.log_path.read_text()
    server.stop()
    rotated = json.loads(server.cli("admin", "token", "rotate", "--json"))["admin_token"]
    server.start()
    assert server.log_path.read_text().count("admin_token=") == 1  # not shown again at the next start
    assert httpx.get(server.url + "/v2/accounts", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert httpx.get(server.url + "/v2/accounts", headers={"Authorization": f"Bearer {rotated}"}).status_code == 200
    stored = server.cli("admin", "token", "rotate")  # the table form prints the token on a line of its own
    assert "not shown again" in stored and rotated not in stored


def test_bootstrap_cli_on_the_database_removes_a_limit(server: LegatoServer, admin: httpx.Client) -> None:
    """Without an admin token the CLI works on the database directly; `none` removes a limit there too."""
    server.cli("accounts", "create", "--sid", "boot1", "--cps", "3", "--max-concurrent", "4")
    changed = json.loads(server.cli("accounts", "update", "boot1", "--cps", "none", "--json"))
    assert (changed["cps"], changed["max_concurrent"]) == (None, 4)
    assert data(admin.get("/v2/accounts/boot1"))["cps"] is None  # the server reads the same database
