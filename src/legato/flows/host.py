"""The call flows of this process: started and fed from the switchboard's leg events.

A flow starts when an outbound leg with `flow_url` is answered, when an inbound call arrives at a number
with a flow (before it is answered: a `<Reject>` first refuses it unanswered), and when a live leg is
redirected (`{"action": "redirect"}`, the `flow_redirect` event). Legs a `<Dial>` placed are watched
(`watch`) by the flow that placed them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from legato.domain.clock import Clock
from legato.domain.events import LegEvent
from legato.domain.leg import FLOW_KEY, Direction, Leg
from legato.flows.callbacks import StatusCallbacks
from legato.flows.conference_starts import ConferenceStarts
from legato.flows.conference_verb import LEFT_CONFERENCE
from legato.flows.fetch import Fetcher
from legato.flows.runner import Flow, Next, VerbRunner
from legato.flows.verbs import VERB_RUNNERS

if TYPE_CHECKING:
    from legato.app.accounts import AccountService
    from legato.app.bridges import BridgeService
    from legato.app.conferences import ConferenceService
    from legato.app.legs import LegService
    from legato.app.runtime import Runtime
    from legato.domain.conference import Conference
    from legato.engine.switchboard import Switchboard

log = logging.getLogger(__name__)


class FlowHost:
    """Starts, feeds and replaces the flows of the legs this process holds."""

    def __init__(
        self,
        legs: LegService,
        bridges: BridgeService,
        accounts: AccountService,
        fetcher: Fetcher,
        clock: Clock,
        verbs: dict[str, VerbRunner] | None = None,
        conferences: ConferenceService | None = None,
    ) -> None:
        self.legs = legs
        self.bridges = bridges
        self.accounts = accounts
        self.fetcher = fetcher
        self.clock = clock
        self.switchboard: Switchboard = legs.switchboard
        self.verbs = verbs or VERB_RUNNERS
        self.flows: dict[str, Flow] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.watchers: dict[str, asyncio.Queue[tuple[Leg, LegEvent]]] = {}
        self.callbacks = StatusCallbacks(fetcher)
        self.switchboard.on_events.append(self.on_events)
        self.conferences = conferences  # <Dial><Conference> needs them
        self.starts = ConferenceStarts()
        if conferences is not None:
            conferences.engine.on_leave.append(self.on_left)

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> FlowHost:
        """The flows of a running server: requests signed with each account's webhook secret, every
        connection checked against the server's endpoint policy."""
        fetcher = Fetcher(runtime.endpoints, runtime.accounts.webhook_secret)
        return cls(
            runtime.legs, runtime.bridges, runtime.accounts, fetcher, runtime.clock, conferences=runtime.conferences
        )

    def on_events(self, leg: Leg, events: list[LegEvent]) -> None:
        """Switchboard hook: route each new event of a leg to its flow, its watcher, its status callbacks."""
        for event in events:
            self.callbacks.on_event(leg, event)
            flow = self.flows.get(leg.leg_sid)
            if flow is not None:
                flow.inbox.put_nowait(event)
            watcher = self.watchers.get(leg.leg_sid)
            if watcher is not None:
                watcher.put_nowait((leg, event))
            spec = leg.extra.get(FLOW_KEY) or {}
            name = event.event_name
            if name == "flow_redirect":
                self.start(leg, Next(str(event.data["url"]), str(event.data.get("method") or "POST")))
            elif (
                flow is None
                and spec.get("url")
                and (
                    (name == "leg_incoming" and leg.direction is Direction.INBOUND)
                    or (name == "leg_answered" and leg.direction is Direction.OUTBOUND)
                )
            ):
                self.start(leg, Next(spec["url"], spec.get("method") or "POST"))

    def on_left(self, conference: Conference, leg_sid: str, reason: str) -> None:
        """Conference hook: a member left; its flow (a <Dial><Conference>) hears it as a `left_conference`
        event of its own (not stored: the conference's `participant_left` is)."""
        self.starts.left(conference, leg_sid)
        self.tell(leg_sid, LEFT_CONFERENCE, {"conference_sid": conference.conference_sid, "reason": reason})

    def tell(self, leg_sid: str, name: str, data: dict[str, object]) -> None:
        """Give the leg's flow an event of its own `name` (not stored), when the leg has a flow."""
        flow = self.flows.get(leg_sid)
        if flow is not None:
            account_sid = flow.last.account_sid
            flow.inbox.put_nowait(LegEvent("", leg_sid, account_sid, 0, name, "", self.clock.now(), dict(data)))

    def start(self, leg: Leg, first: Next) -> None:
        """Run a flow on the leg from `first`, replacing the one running (a redirect). The flow hears the leg's
        events from now on."""
        running = self.tasks.pop(leg.leg_sid, None)
        if running is not None:
            running.cancel()
        flow = self.flows[leg.leg_sid] = Flow(self, leg)
        self.tasks[leg.leg_sid] = asyncio.get_running_loop().create_task(
            self._run(flow, first), name=f"flow-{leg.leg_sid}"
        )

    async def _run(self, flow: Flow, first: Next) -> None:
        try:
            flow.account = await self.accounts.get(flow.last.account_sid)
        except Exception:
            log.exception("flow could not start leg_sid=%s account_sid=%s", flow.leg_sid, flow.last.account_sid)
            self.finished(flow)
            return
        await flow.run(first)

    def finished(self, flow: Flow) -> None:
        if self.flows.get(flow.leg_sid) is flow:
            del self.flows[flow.leg_sid]
            task = self.tasks.get(flow.leg_sid)
            if task is asyncio.current_task():
                del self.tasks[flow.leg_sid]

    def watch(self, leg_sid: str, queue: asyncio.Queue[tuple[Leg, LegEvent]]) -> None:
        """Put the events of a leg a flow placed (<Dial>), with the leg, on `queue` from now on; `unwatch`."""
        self.watchers[leg_sid] = queue

    def unwatch(self, leg_sid: str) -> None:
        self.watchers.pop(leg_sid, None)

    async def stop(self) -> None:
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.callbacks.stop()
        await self.fetcher.aclose()
