"""Event sinks by URL scheme: adding a sink is its module (with `SINK = SinkKind(...)`) and one entry here."""

from __future__ import annotations

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import parse_url
from legato.events.sinks import Sink, SinkKind, SinkOptions, grpc, http

SINK_KINDS: tuple[SinkKind, ...] = (http.SINK, grpc.SINK)
BY_SCHEME: dict[str, SinkKind] = {scheme: kind for kind in SINK_KINDS for scheme in kind.schemes}


def check_endpoint(value: str, field: str = "leg_event_endpoint") -> str:
    """An event endpoint must use a scheme some sink serves and parse as that sink will (`parse_url`),
    plus the sink's own rule if it has one (400 naming `field`)."""
    scheme = value.partition(":")[0].lower() if "://" in value else ""
    kind = BY_SCHEME.get(scheme)
    if kind is None:
        names = [prefix for k in SINK_KINDS for prefix in k.advertised]
        listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise ValidationFailed(f"{field} must start with {listed}", field=field)
    url = parse_url(value, field, kind.schemes)
    broken = kind.check(url) if kind.check is not None else None
    if broken is not None:
        raise ValidationFailed(f"{field} {broken}", field=field)
    return value


def build_sinks(options: SinkOptions) -> dict[str, Sink]:
    """One sink per kind, keyed by every scheme it serves (what the Dispatcher looks endpoints up in)."""
    sinks: dict[str, Sink] = {}
    for kind in SINK_KINDS:
        sink = kind.build(options)
        sinks.update(dict.fromkeys(kind.schemes, sink))
    return sinks
