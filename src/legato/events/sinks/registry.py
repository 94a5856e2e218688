"""Event sinks by URL scheme: adding a sink is its module (with `SINK = SinkKind(...)`) and one entry here."""

from __future__ import annotations

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import EndpointPolicy, parse_url
from legato.events.sinks import Sink, SinkKind, SinkOptions, grpc, http

SINK_KINDS: tuple[SinkKind, ...] = (http.SINK, grpc.SINK)
BY_SCHEME: dict[str, SinkKind] = {scheme: kind for kind in SINK_KINDS for scheme in kind.schemes}


def check_endpoint(value: str, field: str = "leg_event_endpoint") -> str:
    """An event endpoint must use a scheme some sink serves and parse as that sink will (`parse_url`; 400
    naming `field`)."""
    scheme = value.partition(":")[0].lower() if "://" in value else ""
    kind = BY_SCHEME.get(scheme)
    if kind is None:
        names = [prefix for k in SINK_KINDS for prefix in k.advertised]
        listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise ValidationFailed(f"{field} must start with {listed}", field=field)
    parse_url(value, field, kind.schemes)
    return value


async def check_event_endpoint(policy: EndpointPolicy, value: str, field: str = "leg_event_endpoint") -> None:
    """`check_endpoint`, then the address policy on every address the host resolves to (400 naming `field`)."""
    check_endpoint(value, field)
    await policy.check(value, field)


def build_sinks(options: SinkOptions) -> dict[str, Sink]:
    """One sink per kind, keyed by every scheme it serves (what the Dispatcher looks endpoints up in)."""
    sinks: dict[str, Sink] = {}
    for kind in SINK_KINDS:
        sink = kind.build(options)
        sinks.update(dict.fromkeys(kind.schemes, sink))
    return sinks
