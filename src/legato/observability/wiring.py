"""Attaching metrics and leg logs to a runtime's parts, through the hooks those parts already offer."""

from __future__ import annotations

import time
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.domain import machine as m
from legato.engine.switchboard import Switchboard
from legato.engine.throttle import Throttle
from legato.events.dispatcher import Dispatcher
from legato.events.signature import SignedEvent
from legato.events.sinks import Result, Sink
from legato.observability.logs import log_delivery_failure, log_events
from legato.observability.metrics import Metrics
from legato.store.writer import Writer


class Runtime(Protocol):
    """The parts of `app/runtime.py` `Runtime` that are observed (a protocol: this module does not import app)."""

    db: AsyncEngine
    writer: Writer
    switchboard: Switchboard
    throttle: Throttle
    dispatcher: Dispatcher

_START = "legato_started"


class MeasuredSink:
    """A sink that times and counts each attempt (and logs the failed ones) around the real one."""

    def __init__(self, sink: Sink, scheme: str, metrics: Metrics) -> None:
        self.sink, self.scheme, self.metrics = sink, scheme, metrics

    def prepare(self) -> None:
        prepare = getattr(self.sink, "prepare", None)
        if prepare is not None:
            prepare()

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        started = time.perf_counter()
        result = await self.sink.deliver(endpoint, event, payload)
        self.metrics.delivery_attempt(self.scheme, result.outcome, time.perf_counter() - started)
        if result.outcome != "delivered":
            log_delivery_failure(event.event_sid, endpoint, payload, result)
        return result

    async def aclose(self) -> None:
        await self.sink.aclose()


def time_statements(engine: AsyncEngine, metrics: Metrics) -> None:
    """Observe every database statement's time, labelled by its first keyword (insert, update, select...)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info.setdefault(_START, []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        started = conn.info.get(_START)
        if started:
            kind = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else "other"
            metrics.db_latency.labels(kind).observe(time.perf_counter() - started.pop())


def observe(runtime: Runtime, metrics: Metrics) -> None:
    """Feed `metrics` (and the leg logs) from this runtime."""
    switchboard, dispatcher = runtime.switchboard, runtime.dispatcher
    g = metrics.gauges
    g.live_legs = lambda: [c.leg for c in switchboard.controllers.values()]
    g.queue_depth = lambda: runtime.throttle.waiting
    g.endpoints_held_shut = lambda: dispatcher.held_shut
    g.events_backlog = lambda: dispatcher.backlog
    switchboard.on_launch.append(metrics.leg_launched)
    switchboard.on_end.append(metrics.leg_ended)
    runtime.writer.add_listener(metrics.events_committed)
    runtime.writer.add_listener(log_events)
    wrapped: dict[int, MeasuredSink] = {}
    for scheme, sink in dispatcher.sinks.items():
        if id(sink) not in wrapped:
            wrapped[id(sink)] = MeasuredSink(sink, scheme.rstrip("s"), metrics)
    dispatcher.sinks = {scheme: wrapped[id(sink)] for scheme, sink in dispatcher.sinks.items()}
    time_statements(runtime.db, metrics)
    _watch_media_stats(runtime, metrics)


def _watch_media_stats(runtime: Runtime, metrics: Metrics) -> None:
    """Count RTP packets and losses from the receiver figures a network reports as each leg's media is
    released (the switchboard's `signal` is the callback the network is given at start)."""
    signal = runtime.switchboard.signal

    def counted(leg_sid: str, event: m.Input, at: Any = None) -> None:
        if isinstance(event, m.MediaStats):
            metrics.media_stats(event.stats)
        signal(leg_sid, event, at)

    runtime.switchboard.signal = counted  # type: ignore[method-assign]
