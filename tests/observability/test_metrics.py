"""`/metrics` of a real server, parsed with prometheus-client's own parser, counts what happened."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.events.receivers import HttpReceiver
from tests.legato_server import Api, LegatoServer

HUMAN, BUSY, UNALLOCATED, MACHINE = "09163816621", "09163810001", "09163810003", "09163810004"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    made = HttpReceiver()
    yield made
    made.close()


def scrape(server: LegatoServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_legs_events_deliveries_and_requests(make_server, receiver: HttpReceiver) -> None:
    server: LegatoServer = make_server()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    server.start()
    sids = {}
    for name, number in (("up", HUMAN), ("busy", BUSY), ("unallocated", UNALLOCATED), ("machine", MACHINE)):
        response = api.create_leg(number, leg_event_endpoint=receiver.url, amd_enable=True)
        assert response.status_code == 202, response.text
        sids[name] = response.json()["response"]["data"]["leg_sid"]
    assert api.create_leg(HUMAN, leg_event_endpoint="ftp://nowhere").status_code == 400
    for name in ("busy", "unallocated"):
        receiver.wait_terminated(sids[name])
    for name in ("up", "machine"):
        assert api.wait_state(sids[name], "connected")["state"] == "connected"
    receiver.wait_for(lambda _: all(e["event_name"] == "leg_answered" and e["event_data"]["data"]["answered_by"]
                                    for n in ("up", "machine") for e in receiver.events_of(sids[n])[-1:]))

    samples = scrape(server)
    assert value(samples, "legato_leg_creates_total", direction="outbound", outcome="admitted") == 4
    assert value(samples, "legato_leg_creates_total", direction="outbound", outcome="refused") == 1
    assert value(samples, "legato_legs", state="connected") == 2
    assert value(samples, "legato_legs_ended_total", terminal_status="busy", hangup_cause="user_busy") == 1
    assert value(samples, "legato_legs_ended_total", terminal_status="failed", hangup_cause="unallocated_number") == 1
    assert value(samples, "legato_sip_final_responses_total", code="486") == 1
    assert value(samples, "legato_sip_final_responses_total", code="404") == 1
    assert value(samples, "legato_amd_verdicts_total", answered_by="HUMAN") == 1
    assert value(samples, "legato_amd_verdicts_total", answered_by="MACHINE") == 1
    assert value(samples, "legato_events_total", event_name="leg_terminated") == 2
    assert value(samples, "legato_events_total", event_name="leg_connecting") == 4
    delivered = len({r.payload["event_sid"] for r in receiver.accepted()})
    assert value(samples, "legato_event_delivery_attempts_total", scheme="http", outcome="delivered") >= delivered
    assert value(samples, "legato_event_delivery_seconds_count", scheme="http") >= delivered
    assert value(samples, "legato_queue_depth") == 0
    assert value(samples, "legato_event_endpoints_held_shut") == 0
    assert value(samples, "legato_draining") == 0
    assert value(samples, "legato_db_statement_seconds_count", kind="insert") > 0
    assert value(samples, "legato_http_requests_total", method="POST", operation="createLeg", status="202") == 4
    assert value(samples, "legato_http_requests_total", method="POST", operation="createLeg", status="400") == 1


def test_metrics_show_the_cps_queue_and_a_dead_endpoint_held_shut(make_server) -> None:
    server: LegatoServer = make_server()
    api = Api(server, server.create_account("--exophone", "08030752400", "--max-concurrent", "1"))
    server.start()
    for _ in range(3):  # one admitted, two waiting for its slot
        assert api.create_leg(HUMAN, leg_event_endpoint="http://127.0.0.1:9/events").status_code == 202
    deadline_samples = scrape(server)
    assert value(deadline_samples, "legato_leg_creates_total", direction="outbound", outcome="enqueued") == 2
    assert value(deadline_samples, "legato_queue_depth") == 2
    samples = deadline_samples
    while value(samples, "legato_event_endpoints_held_shut") != 1:  # the first failed attempt shuts it
        samples = scrape(server)
    assert value(samples, "legato_event_delivery_attempts_total", scheme="http", outcome="retry") >= 1
