"""Any rendered body goes over gRPC, and a sink's own bug fails the event once instead of retrying for a day."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from legato.engine.clock import ScaledClock
from legato.events.dispatcher import Dispatcher, RetrySchedule
from legato.events.outbox import Outbox
from legato.events.signature import SignedEvent
from legato.events.sinks import Result
from legato.store.database import create_engine, migrate
from tests.events.conftest import leg_sid_of
from tests.events.receivers import GrpcReceiver, verify
from tests.events.test_delivery_http import delivered
from tests.legato_server import Api


def test_grpc_carries_another_providers_event_shape(events_api: Api, receivers: Callable[..., Any]) -> None:
    receiver: GrpcReceiver = receivers("grpc")
    leg_sid = leg_sid_of(events_api.create_leg("09163810007", leg_event_endpoint=receiver.url,
                                               event_format="bandwidth", custom_param="tag-2"))
    got = receiver.wait_for(lambda got: any(json.loads(r.body).get("eventType") == "disconnect" for r in got))
    payloads = [verify(events_api.account.webhook_secret, r) for r in got]
    assert [p["eventType"] for p in payloads] == ["answer", "disconnect"]
    assert all(p["callId"] == leg_sid and p["tag"] == "tag-2" for p in payloads)
    assert [r.message.event_sid for r in got] == [r.message.webhook_id for r in got]
    sent = [e for e in delivered(events_api, leg_sid) if e["endpoint"]]
    assert [(e["event_name"], e["delivery"]["status"]) for e in sent] == \
        [("leg_answered", "delivered"), ("leg_terminated", "delivered")]
    assert all(len(e["attempts"]) == 1 for e in sent)


class BrokenSink:
    """A sink with a bug: it raises instead of returning a Result."""

    def __init__(self) -> None:
        self.calls = 0

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        self.calls += 1
        raise KeyError("event_timestamp")

    async def aclose(self) -> None:
        pass


async def test_a_sinks_own_error_fails_the_event_and_is_logged(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")
    await migrate(engine)
    sink = BrokenSink()

    async def secret(account_sid: str) -> str:
        return "whsec_" + "A" * 32

    dispatcher = Dispatcher(Outbox(engine), {"grpc": sink}, secret, ScaledClock(),
                            schedule=RetrySchedule(base=0.01, cap=0.01))
    await dispatcher.start()
    row = {"event_sid": "EV1", "subject": "leg", "subject_sid": "L1", "account_sid": "AC1", "sequence": 1,
           "status": "pending", "endpoint": "grpc://127.0.0.1:9", "payload": {"callId": "L1"},
           "timestamp": datetime.now(UTC)}
    with caplog.at_level(logging.ERROR, logger="legato.events.dispatcher"):
        dispatcher.on_commit([row])
        task = dispatcher._queues["L1"].task
        assert task is not None
        await asyncio.wait_for(task, 10)
    await dispatcher.stop()
    attempts = (await dispatcher.outbox.attempts("L1"))["EV1"]
    await engine.dispose()
    assert sink.calls == 1
    assert [(a["outcome"], a["error"]) for a in attempts] == [("failed", "internal error in the event sink (logged)")]
    assert "KeyError" in caplog.text
