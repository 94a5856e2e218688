"""Every Prometheus metric Legato exports, declared in one place on one registry per server.

Counters and histograms are fed by hooks the composition root attaches (leg launched/ended, events
committed, delivery attempts, database statements, HTTP requests); gauges are read at scrape time
from the live objects, so the hot path pays nothing for them.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from legato.domain.leg import Leg, LegState

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
AMD_BUCKETS = (0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Gauges:
    """Scrape-time readers of the live state (each returns the current value)."""

    live_legs: Callable[[], Iterable[Leg]] = lambda: ()
    queue_depth: Callable[[], int] = lambda: 0
    endpoints_held_shut: Callable[[], int] = lambda: 0
    events_backlog: Callable[[], int] = lambda: 0
    draining: Callable[[], bool] = lambda: False


class _LiveCollector(Collector):
    def __init__(self, gauges: Gauges) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        g = self.gauges
        by_state = Tally(leg.state.value for leg in g.live_legs())
        legs = GaugeMetricFamily("legato_legs", "Live legs held by this node, by state", labels=["state"])
        for state in LegState:
            if state is not LegState.TERMINAL:
                legs.add_metric([state.value], by_state.get(state.value, 0))
        yield legs
        yield GaugeMetricFamily("legato_queue_depth", "Legs waiting for a CPS slot", value=g.queue_depth())
        yield GaugeMetricFamily("legato_event_endpoints_held_shut",
                                "Event endpoints that failed and are only probed until they answer",
                                value=g.endpoints_held_shut())
        yield GaugeMetricFamily("legato_event_backlog_legs", "Legs with events waiting to be delivered",
                                value=g.events_backlog())
        yield GaugeMetricFamily("legato_draining", "1 while the server drains before exit (SIGTERM)",
                                value=1 if g.draining() else 0)


@dataclass
class Metrics:
    """The registry and every metric in it."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    gauges: Gauges = field(default_factory=Gauges)

    def __post_init__(self) -> None:
        r = self.registry
        self.leg_creates = Counter("legato_leg_creates", "Legs asked for: admitted (dialled at once), enqueued "
                                   "(waiting for a CPS slot) or refused (4xx/5xx on create)",
                                   ["direction", "outcome"], registry=r)
        self.legs_ended = Counter("legato_legs_ended", "Legs that reached the terminal state",
                                  ["terminal_status", "hangup_cause"], registry=r)
        self.sip_responses = Counter("legato_sip_final_responses", "Final SIP responses that ended outbound legs",
                                     ["code"], registry=r)
        self.events = Counter("legato_events", "Events recorded (durable)", ["event_name"], registry=r)
        self.delivery_attempts = Counter("legato_event_delivery_attempts", "Event delivery attempts by outcome",
                                         ["scheme", "outcome"], registry=r)
        self.delivery_latency = Histogram("legato_event_delivery_seconds", "Time of one delivery attempt",
                                          ["scheme"], buckets=LATENCY_BUCKETS, registry=r)
        self.amd_verdicts = Counter("legato_amd_verdicts", "Answering-machine detection verdicts",
                                    ["answered_by"], registry=r)
        self.amd_decision = Histogram("legato_amd_decision_seconds", "Time from the answer to the AMD verdict",
                                      buckets=AMD_BUCKETS, registry=r)
        self.media_packets = Counter("legato_media_packets_received", "RTP packets received on ended legs",
                                     registry=r)
        self.media_lost = Counter("legato_media_packets_lost", "RTP packets lost on ended legs", registry=r)
        self.db_latency = Histogram("legato_db_statement_seconds", "Database statement time by kind",
                                    ["kind"], buckets=LATENCY_BUCKETS, registry=r)
        self.requests = Counter("legato_http_requests", "API requests by operation and status",
                                ["method", "operation", "status"], registry=r)
        self.request_latency = Histogram("legato_http_request_seconds", "API request time", ["operation"],
                                         buckets=LATENCY_BUCKETS, registry=r)
        r.register(_LiveCollector(self.gauges))
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def _of(self, metric: Any, *values: str) -> Any:
        """`metric.labels(*values)`, kept: labels() checks and converts its values and takes a lock each call."""
        child = self._children.get((metric, values))
        if child is None:
            child = self._children[(metric, values)] = metric.labels(*values)
        return child

    # ---- hooks ---------------------------------------------------------------------------
    def leg_launched(self, leg: Leg) -> None:
        outcome = "enqueued" if leg.state is LegState.ENQUEUED else "admitted"
        self._of(self.leg_creates, leg.direction.value, outcome).inc()

    def leg_refused(self, direction: str = "outbound") -> None:
        self._of(self.leg_creates, direction, "refused").inc()

    def leg_ended(self, leg: Leg) -> None:
        status = leg.terminal_status.value if leg.terminal_status else "unknown"
        self._of(self.legs_ended, status, leg.hangup_cause or "unknown").inc()
        if leg.sip_response_code is not None:
            self._of(self.sip_responses, str(leg.sip_response_code)).inc()

    def media_stats(self, stats: dict[str, Any]) -> None:
        """A leg's receiver figures (reported once, when its media is released)."""
        received, lost = stats.get("packets_received"), stats.get("packets_lost")
        if isinstance(received, int) and received > 0:
            self.media_packets.inc(received)
        if isinstance(lost, int) and lost > 0:
            self.media_lost.inc(lost)

    def events_committed(self, rows: list[dict[str, Any]]) -> None:
        """Writer listener: count events and AMD verdicts once they are durable."""
        for row in rows:
            self._of(self.events, row["event_name"]).inc()
            if row["event_name"] in ("leg_answered", "amd_result_success"):
                amd = event_fields(row).get("amd")
                if isinstance(amd, dict) and amd.get("answered_by"):
                    self._of(self.amd_verdicts, str(amd["answered_by"])).inc()
                    if isinstance(amd.get("decision_ms"), int):
                        self.amd_decision.observe(amd["decision_ms"] / 1000)

    def delivery_attempt(self, scheme: str, outcome: str, seconds: float) -> None:
        self._of(self.delivery_attempts, scheme, outcome).inc()
        self._of(self.delivery_latency, scheme).observe(seconds)

    def request(self, method: str, operation: str, status: int, seconds: float) -> None:
        self._of(self.requests, method, operation, str(status)).inc()
        self._of(self.request_latency, operation).observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


def event_fields(row: dict[str, Any]) -> dict[str, Any]:
    """`event_data.data` of an outbox row in Legato's own shape ({} for other dialects' bodies)."""
    data = (row.get("payload") or {}).get("event_data", {})
    data = data.get("data") if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}
