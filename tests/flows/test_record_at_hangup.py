"""`<Record>` when the caller hangs up: the action URL is told (Digits=hangup) whatever order the leg's last
events reach the flow in.

A real server shows these orders only at random (they depend on where the flow's task is when the call
ends; the sandbox test `test_when_the_call_ends_the_dialled_leg_goes_and_actions_are_told` failed on them
twice in full runs), so the flow runs here against a stand-in of its `Host` interface that ends the call
at a chosen point and queues the events in a chosen order. The verb and the flow are the real ones.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from legato.domain.clock import ManualClock
from legato.domain.events import LegEvent
from legato.domain.leg import Direction, Leg, LegState
from legato.flows.media_verbs import record
from legato.flows.runner import End, Flow
from legato.flows.twiml import parse

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _event(leg: Leg, name: str, **data: Any) -> LegEvent:
    return LegEvent("E" + name, leg.leg_sid, leg.account_sid, 1, name, "", AT, data)


class _Host:
    """Ends the call during the first `gather` the verb asks for and queues the leg's last events in `order`;
    `raise_gone`: the call ended before that action was carried out (the flow sees a terminal leg)."""

    def __init__(self, leg: Leg, order: tuple[str, ...], *, raise_gone: bool) -> None:
        self.leg, self.order, self.raise_gone = leg, order, raise_gone
        self.clock = ManualClock()
        self.fetched: list[dict[str, str]] = []
        self.flow: Flow | None = None
        self.legs = self
        self.fetcher = self
        self.switchboard = self
        self.callbacks = self  # no recordingStatusCallback in the document: never called

    def get(self, leg_sid: str) -> Leg:
        return self.leg

    async def act_with_result(self, account: Any, leg_sid: str, request: Any) -> tuple[Leg, dict[str, Any]]:
        if request.action == "start_recording":
            return self.leg, {"recording_id": "R1"}
        if request.action == "gather":
            self._hang_up()
            if self.raise_gone:
                assert self.flow is not None
                return await self.flow.act("gather")  # the leg is terminal now: LegGone, events unread
        return self.leg, {}

    def _hang_up(self) -> None:
        self.leg = dataclasses.replace(self.leg, state=LegState.TERMINAL)
        assert self.flow is not None
        events = {"leg_terminated": _event(self.leg, "leg_terminated"),
                  "recording_completed": _event(self.leg, "recording_completed", recording_id="R1",
                                                recording_url="http://127.0.0.1/r/R1.wav", duration_ms=4200),
                  "gather_completed": _event(self.leg, "gather_completed", reason="hangup", digits="")}
        for name in self.order:
            self.flow.inbox.put_nowait(events[name])

    async def fetch(self, account_sid: str, url: str, method: str, params: dict[str, str]) -> bytes:
        self.fetched.append({"url": url, "method": method, **params})
        return b"<Response/>"


@pytest.mark.parametrize("raise_gone", [False, True], ids=["ended-while-waiting", "ended-before-acting"])
@pytest.mark.parametrize("order", [
    ("leg_terminated", "recording_completed"),
    ("recording_completed", "leg_terminated"),
    ("recording_completed", "gather_completed", "leg_terminated"),
    ("gather_completed", "leg_terminated", "recording_completed"),
], ids=lambda order: ",".join(name.split("_")[0] for name in order))
def test_the_action_is_told_of_the_recording_when_the_caller_hangs_up(order: tuple[str, ...],
                                                                      raise_gone: bool) -> None:
    leg = Leg(leg_sid="L1", account_sid="acme", call_sid="C1", direction=Direction.INBOUND, contact_uri="+919163810010",
              contact_e164="+919163810010", exophone="+918030752400", network_type="pstn",
              leg_event_endpoint=None, date_created=AT, state=LegState.CONNECTED)
    host = _Host(leg, order, raise_gone=raise_gone)
    flow = Flow(host, leg)  # type: ignore[arg-type]
    host.flow = flow
    flow.account = type("Account", (), {"account_sid": "acme"})()  # type: ignore[assignment]
    flow.url = "http://127.0.0.1:9/voicemail"
    (verb,) = parse('<Response><Record action="/after-record" finishOnKey=""/></Response>')

    outcome = asyncio.run(asyncio.wait_for(record(flow, verb), 5))

    assert isinstance(outcome, End)
    assert len(host.fetched) == 1, host.fetched
    told = host.fetched[0]
    assert told["url"] == "http://127.0.0.1:9/after-record" and told["method"] == "POST"
    assert told["Digits"] == "hangup"
    assert told["RecordingUrl"] == "http://127.0.0.1/r/R1.wav" and told["RecordingDuration"] == "4"
