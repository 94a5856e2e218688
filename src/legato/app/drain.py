"""Graceful drain: stop taking legs, let live ones finish, end the rest, deliver their events, then stop.

On the first SIGTERM the server drains (`Drain.run`): creates and inbound calls are refused (503 with
Retry-After; readiness says `draining`), live legs run for up to `drain_timeout` seconds, then every leg
still live is ended with `hangup_cause: platform_shutdown` (BYE, CANCEL or 503 on the network) and one
terminal event, and the dispatcher gets up to `drain_flush_timeout` seconds to deliver what is pending.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from legato.domain import machine as m
from legato.domain.errors import Conflict, Draining
from legato.domain.leg import Leg
from legato.engine.switchboard import Switchboard
from legato.events.dispatcher import Dispatcher

log = structlog.get_logger(__name__)
FLUSH_POLL_SECONDS = 0.05


class Drain:
    """The drain of one server; `draining` turns true once and stays so."""

    def __init__(self, switchboard: Switchboard, dispatcher: Dispatcher, *, timeout: float,
                 flush_timeout: float) -> None:
        self.switchboard = switchboard
        self.dispatcher = dispatcher
        self.timeout = timeout
        self.flush_timeout = flush_timeout
        self.draining = False
        self._idle = asyncio.Event()
        switchboard.on_end.append(self._leg_ended)

    def check_taking_legs(self) -> None:
        """Raise Draining (503) once the drain started."""
        if self.draining:
            raise Draining("this server is draining before it stops; try another or retry later",
                           retry_after=max(1, round(self.timeout)))

    def readiness(self) -> str | None:
        """A readiness check: None when ready, else why not."""
        return "draining" if self.draining else None

    async def run(self) -> None:
        """Drain: wait for live legs up to the timeout, end the rest, flush the outbox (bounded)."""
        self.draining = True
        live = len(self.switchboard.controllers)
        log.info("drain started", live_legs=live, drain_timeout=self.timeout)
        if live:
            self._idle.clear()
            try:
                await asyncio.wait_for(self._idle.wait(), self.timeout)
            except TimeoutError:
                pass
        ended = await self.end_live_legs()
        delivered = await self.flush()
        log.info("drain finished", legs_ended=ended, events_flushed=delivered,
                 events_left=self.dispatcher.backlog)

    async def end_live_legs(self) -> int:
        """End every leg still live (platform_shutdown, one terminal event each); returns how many."""
        futures = []
        for leg_sid in list(self.switchboard.controllers):
            try:
                futures.append(self.switchboard.feed(leg_sid, m.Shutdown()))
            except Conflict:  # ended meanwhile (e.g. with its bridge)
                continue
        results = await asyncio.gather(*futures, return_exceptions=True)
        for failure in (r for r in results if isinstance(r, BaseException)):
            log.error("could not record a leg's end during drain", error=str(failure))
        return len(futures)

    async def flush(self) -> bool:
        """Wait (at most `flush_timeout` s) until every committed event is delivered or given up."""
        deadline = time.monotonic() + self.flush_timeout
        while self.dispatcher.backlog and time.monotonic() < deadline:  # noqa: ASYNC110 (a bounded poll, once)
            await asyncio.sleep(FLUSH_POLL_SECONDS)
        return not self.dispatcher.backlog

    def _leg_ended(self, leg: Leg) -> None:
        if not self.switchboard.controllers:
            self._idle.set()
        else:
            self._idle.clear()
