"""Idempotency-Key on creates and actions, through the real server (issue 10, item 18): a retried request gets
the first answer and dials nothing new, also after a restart and when the duplicates arrive together."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from legato.store.database import create_engine
from legato.store.tables import idempotency_keys
from tests.conftest import DATABASES
from tests.legato_server import Api

BODY = {"contact_uri": "09163810002", "exophone": "08030752400", "leg_event_endpoint": "http://127.0.0.1:9/e"}


def _post(api: Api, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    return api.http.post(api.base + path, json=body, headers={"Idempotency-Key": key})


def _legs_tagged(api: Api, tag: str) -> list[dict[str, Any]]:
    legs = api.http.get(api.base + "/legs", params={"limit": 500}).json()["response"]["data"]["legs"]
    return [leg for leg in legs if leg["custom_param"] == tag]


def _new_tag() -> str:
    return "idem-" + uuid.uuid4().hex


def test_a_retried_create_gets_the_first_answer_and_dials_once(api: Api) -> None:
    tag, key = _new_tag(), uuid.uuid4().hex
    first = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    again = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert first.status_code == again.status_code == 202, first.text
    assert again.content == first.content  # the first answer, byte for byte
    assert again.headers["idempotent-replayed"] == "true"
    assert len(_legs_tagged(api, tag)) == 1
    api.action(first.json()["response"]["data"]["leg_sid"], action="hangup")


def test_the_same_key_with_another_body_is_409_naming_the_key(api: Api) -> None:
    tag, key = _new_tag(), uuid.uuid4().hex
    assert _post(api, "/legs", {**BODY, "custom_param": tag}, key).status_code == 202
    other = _post(api, "/legs", {**BODY, "custom_param": tag, "contact_uri": "09163810003"}, key)
    assert other.status_code == 409, other.text
    error = other.json()["response"]["error_data"]
    assert error["field"] == "Idempotency-Key" and key in error["message"]
    assert len(_legs_tagged(api, tag)) == 1
    api.action(_legs_tagged(api, tag)[0]["leg_sid"], action="hangup")


def test_concurrent_duplicates_act_once(api: Api) -> None:
    tag, key = _new_tag(), uuid.uuid4().hex
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: httpx.post(
            api.server.url + api.base + "/legs", json={**BODY, "custom_param": tag}, auth=api.account.auth,
            headers={"Idempotency-Key": key}, timeout=30), range(12)))
    assert {a.status_code for a in answers} <= {202, 409}
    accepted = {a.content for a in answers if a.status_code == 202}
    assert len(accepted) == 1  # every 202 is the one first answer
    assert len(_legs_tagged(api, tag)) == 1
    api.action(_legs_tagged(api, tag)[0]["leg_sid"], action="hangup")


def test_keys_belong_to_one_account(api: Api) -> None:
    other = Api(api.server, api.server.create_account("--exophone", "08030752400"))
    tag, key = _new_tag(), uuid.uuid4().hex
    mine = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    theirs = _post(other, "/legs", {**BODY, "custom_param": tag}, key)
    assert mine.status_code == theirs.status_code == 202, theirs.text
    assert mine.json()["response"]["data"]["leg_sid"] != theirs.json()["response"]["data"]["leg_sid"]
    for client, answer in ((api, mine), (other, theirs)):
        client.action(answer.json()["response"]["data"]["leg_sid"], action="hangup")


def test_a_retried_action_gets_the_first_answer(api: Api) -> None:
    leg_sid = api.create_leg("09163810002").json()["response"]["data"]["leg_sid"]
    key = uuid.uuid4().hex
    first = _post(api, f"/legs/{leg_sid}/actions", {"action": "hangup"}, key)
    again = _post(api, f"/legs/{leg_sid}/actions", {"action": "hangup"}, key)
    assert first.status_code == again.status_code == 202, again.text
    assert again.content == first.content
    assert api.action(leg_sid, action="hangup").status_code == 409  # without the key it is a new request


def test_a_refused_request_does_not_use_up_its_key(api: Api) -> None:
    tag, key = _new_tag(), uuid.uuid4().hex
    refused = _post(api, "/legs", {**BODY, "custom_param": tag, "timeout": 0}, key)
    assert refused.status_code == 400
    accepted = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert accepted.status_code == 202, accepted.text
    api.action(accepted.json()["response"]["data"]["leg_sid"], action="hangup")


def test_a_bad_key_is_400_naming_the_header(api: Api) -> None:
    response = _post(api, "/legs", BODY, "has space")
    assert response.status_code == 400
    assert response.json()["response"]["error_data"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("database", DATABASES)
def test_keys_survive_a_restart(make_server: Any, database: str) -> None:
    server = make_server(database).start()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    tag, key = _new_tag(), uuid.uuid4().hex
    first = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert first.status_code == 202, first.text
    server.stop()
    server.start()
    again = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert (again.status_code, again.content) == (202, first.content)
    assert len(_legs_tagged(api, tag)) == 1
    assert _post(api, "/legs", {**BODY, "custom_param": "other"}, key).status_code == 409


def _cut_off(server: Any, key: str, *, resource_sid: str | None = "keep") -> None:
    """Leave the key as a first request killed mid-way leaves it: claimed two minutes ago, never answered."""
    async def run() -> None:
        engine = create_engine(server.database_url)
        values: dict[str, Any] = {"status_code": None, "body": None,
                                  "created_at": datetime.now(UTC) - timedelta(minutes=2)}
        if resource_sid != "keep":
            values["resource_sid"] = resource_sid
        async with engine.begin() as conn:
            await conn.execute(update(idempotency_keys).where(idempotency_keys.c.idempotency_key == key)
                               .values(**values))
        await engine.dispose()
    asyncio.run(run())


@pytest.mark.parametrize("database", DATABASES)
def test_a_create_cut_off_by_a_crash_is_settled_by_its_leg(make_server: Any, database: str) -> None:
    server = make_server(database).start()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    tag, key = _new_tag(), uuid.uuid4().hex
    first = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert first.status_code == 202, first.text
    server.stop(signal.SIGKILL)  # as a crash between the leg's write and the key's answer
    _cut_off(server, key)
    server.start()
    again = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true", again.text
    assert again.json()["response"]["data"]["leg_sid"] == first.json()["response"]["data"]["leg_sid"]
    assert len(_legs_tagged(api, tag)) == 1  # not dialled twice
    assert _post(api, "/legs", {**BODY, "custom_param": tag}, key).content == again.content  # now answered


@pytest.mark.parametrize("resource_sid", [None, "LEGNEVERWRITTEN"])
def test_a_create_cut_off_before_its_leg_was_durable_acts_on_retry(make_server: Any, resource_sid: Any) -> None:
    server = make_server("sqlite").start()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    tag, key = _new_tag(), uuid.uuid4().hex
    first = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    api.action(first.json()["response"]["data"]["leg_sid"], action="hangup")
    _cut_off(server, key, resource_sid=resource_sid)  # as if that leg had never been accepted
    again = _post(api, "/legs", {**BODY, "custom_param": "retried-" + tag}, key)
    assert again.status_code == 409  # another body is still another request
    again = _post(api, "/legs", {**BODY, "custom_param": tag}, key)
    assert again.status_code == 202 and "idempotent-replayed" not in again.headers, again.text
    assert again.json()["response"]["data"]["leg_sid"] != first.json()["response"]["data"]["leg_sid"]
    api.action(again.json()["response"]["data"]["leg_sid"], action="hangup")
