"""Every timestamp the API answers is RFC 3339 in UTC with `Z`, readable by datetime.fromisoformat (item 17)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tests.legato_server import Api

TIME_KEY = re.compile(r"(_at|_time|^date_.*|Time|At)$")


def _timestamps(document: Any, path: str = "") -> list[tuple[str, str]]:
    """(path, value) of every non-null string under a key that names a time."""
    found: list[tuple[str, str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(value, str) and TIME_KEY.search(key):
                found.append((f"{path}.{key}", value))
            else:
                found.extend(_timestamps(value, f"{path}.{key}"))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_timestamps(value, f"{path}.{index}"))
    return found


def test_every_timestamp_in_the_api_is_rfc3339_utc(api: Api) -> None:
    created = api.create_leg("09163810002").json()["response"]["data"]
    leg_sid = created["leg_sid"]
    api.wait_state(leg_sid, "ringing")
    api.action(leg_sid, action="hangup")
    api.wait_terminal(leg_sid)
    documents = [created, api.leg(leg_sid), api.events(leg_sid),
                 api.http.get(api.base + "/legs").json()["response"]["data"],
                 api.http.get(api.base).json()["response"]["data"]]
    stamps = [stamp for document in documents for stamp in _timestamps(document)]
    assert {path.rsplit(".", 1)[1] for path, _ in stamps} >= {
        "created_at", "date_created", "date_updated", "start_time", "end_time", "attempted_at"}
    for path, value in stamps:
        assert value.endswith("Z"), (path, value)
        assert datetime.fromisoformat(value).utcoffset().total_seconds() == 0, (path, value)
