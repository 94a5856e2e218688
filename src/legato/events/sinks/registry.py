"""Event sinks by URL scheme: adding a sink is its module (with `SINK = SinkKind(...)`) and one entry here."""

from __future__ import annotations

from urllib.parse import urlsplit

from legato.domain.errors import ValidationFailed
from legato.events.sinks import Sink, SinkKind, SinkOptions, grpc, http

SINK_KINDS: tuple[SinkKind, ...] = (http.SINK, grpc.SINK)
BY_SCHEME: dict[str, SinkKind] = {scheme: kind for kind in SINK_KINDS for scheme in kind.schemes}


def check_endpoint(value: str, field: str = "leg_event_endpoint") -> str:
    """An event endpoint must use a scheme some sink serves and follow that sink's rule (400 naming `field`)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        raise ValidationFailed(f"{field} is not a valid URL ({exc})", field=field) from None
    kind = BY_SCHEME.get(parts.scheme)
    if kind is None:
        names = [prefix for k in SINK_KINDS for prefix in k.advertised]
        listed = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise ValidationFailed(f"{field} must start with {listed}", field=field)
    broken = kind.check(parts)
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
