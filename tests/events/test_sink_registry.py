"""Event sinks by URL scheme: one declaration per sink drives endpoint checks and the dispatcher's table."""

import pytest

from legato.domain.errors import ValidationFailed
from legato.events.sinks import SinkOptions
from legato.events.sinks.grpc import GrpcSink
from legato.events.sinks.http import HttpSink
from legato.events.sinks.registry import build_sinks, check_endpoint


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/x", "hook must start with http://, https:// or grpc://"),
    ("https:///path", "hook must name a host"),
    ("grpc://host", "hook must be grpc://host:port"),
    ("grpc://host:50051/path", "hook must be grpc://host:port"),
    ("http://host:99999/", "hook port must be 1-65535"),
    ("https://exa mple.com/", "hook must not contain spaces"),
])
def test_bad_endpoints_are_refused_naming_the_field(url: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        check_endpoint(url, "hook")
    assert err.value.field == "hook" and str(err.value).startswith(message)


def test_good_endpoints_pass() -> None:
    for url in ("https://example.com/events", "http://127.0.0.1:9000", "grpcs://h:443", "grpc://h:50051/"):
        assert check_endpoint(url) == url


async def test_one_sink_per_kind_serves_each_of_its_schemes() -> None:
    sinks = build_sinks(SinkOptions(timeout=1.0))
    assert set(sinks) == {"http", "https", "grpc", "grpcs"}
    assert sinks["http"] is sinks["https"] and isinstance(sinks["http"], HttpSink)
    assert sinks["grpc"] is sinks["grpcs"] and isinstance(sinks["grpc"], GrpcSink)
    for sink in set(sinks.values()):
        await sink.aclose()
