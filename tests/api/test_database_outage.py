"""A database that stops taking writes after the 202s: nothing is forgotten, every leg ends exactly once.

PostgreSQL goes away for a few seconds behind a TCP proxy (connections cut, new ones refused); SQLite hits
a full disk (the server's file-size limit lowered to one byte: every write fails, reads work). Meanwhile the
sandbox network rings, answers, hangs up and times out the legs; the API answers 503 with Retry-After (never
500), `/readyz` says not ready and `/healthz` stays 200. Once the database is back the store holds what the
network did: each leg's whole story, with exactly one `leg_terminated`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.legato_server import POSTGRES_URL, Api, LegatoServer, new_postgres_database
from tests.outage import DiskFull, TcpProxy
from tests.waiting import wait_for

EXPECTED = {  # number -> terminal_status, hangup_cause, event names
    "09163810001": ("busy", "user_busy", ["leg_connecting", "leg_terminated"]),
    "09163810002": ("no-answer", "ring_timeout", ["leg_connecting", "leg_ringing", "leg_terminated"]),
    "09163810007": ("completed", "normal_clearing", ["leg_connecting", "leg_ringing", "leg_answered",
                                                     "leg_terminated"]),
    "09163816621": ("completed", "hangup_requested", ["leg_connecting", "leg_ringing", "leg_answered",
                                                      "leg_terminated"]),
}
UP = "09163816621"  # answered, stays up until hung up


class PostgresOutage:
    def __init__(self, proxy: TcpProxy) -> None:
        self.proxy = proxy

    def begin(self) -> None:
        self.proxy.cut()

    def restore(self) -> None:
        self.proxy.restore()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[
    pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")])])
def outage_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LegatoServer, object]]:
    """A sandbox server (time scale 2) and the means to take its database away."""
    proxy = None
    if request.param == "postgres":
        proxy = TcpProxy(5432).restore()
        url = proxy.url_for(new_postgres_database())
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}"
    server = LegatoServer(workdir=tmp_path, database_url=url, time_scale=2.0)
    try:
        server.start()
        assert server.process is not None
        yield server, PostgresOutage(proxy) if proxy else DiskFull(server.process.pid)
    finally:
        if proxy is not None:
            proxy.restore()
        server.stop()
        if proxy is not None:
            proxy.close()


def test_database_outage_after_the_202s_loses_nothing(outage_server) -> None:  # type: ignore[no-untyped-def]
    server, outage = outage_server
    api = Api(server, server.create_account("--exophone", "08030752400"))
    sids = {}
    for number in EXPECTED:
        created = api.create_leg(number, ring_timeout=5)
        assert created.status_code == 202, created.text
        sids[number] = created.json()["response"]["data"]["leg_sid"]
    outage.begin()
    http = httpx.Client(base_url=server.url, timeout=30)
    seen: list[httpx.Response] = []

    def live_legs() -> int:
        return http.get("/healthz").json()["response"]["data"]["live_legs"]

    # the network ended three legs and answered the fourth, in memory
    wait_for(lambda: live_legs() == 1, seconds=30, what="one live leg")
    ready = http.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.json()["response"]["data"]["checks"]["database"] != "ok"
    assert http.get("/healthz").status_code == 200
    seen.append(api.create_leg("09163816622"))
    seen.append(api.action(sids[UP], action="hangup"))
    for response in seen:
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["response"]["error_data"]["code"] == "unavailable"
    reading = api.http.get(f"{api.base}/legs/{sids[UP]}")
    assert reading.status_code in (200, 503)  # SQLite still reads on a full disk; PostgreSQL is gone
    if reading.status_code == 503:
        assert reading.headers["Retry-After"].isdigit()

    outage.restore()
    wait_for(lambda: http.get("/readyz").status_code == 200, seconds=30, what="ready again")
    assert api.wait_state(sids[UP], "connected")["answer_time"]
    assert api.action(sids[UP], action="hangup").status_code == 202
    for number, (status, cause, names) in EXPECTED.items():
        leg = api.wait_terminal(sids[number])
        assert (leg["state"], leg["terminal_status"], leg["hangup_cause"]) == ("terminal", status, cause), number
        events = api.events(sids[number])
        assert [e["event_name"] for e in events] == names, number
        assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    listed = api.http.get(f"{api.base}/legs", params={"limit": 50}).json()["response"]["data"]
    rows = listed["legs"] if isinstance(listed, dict) else listed
    assert {leg["leg_sid"] for leg in rows} == set(sids.values())  # the refused create left nothing
