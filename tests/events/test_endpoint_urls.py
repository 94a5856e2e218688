"""Malformed endpoint URLs are a 400 naming the field, parsed as the sender will parse them; never a 500."""

from __future__ import annotations

import httpx
import pytest

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import parse_url
from tests.legato_server import Api, LegatoServer

BAD = [
    "http://a..b/x",                                  # empty DNS label (IDNA UnicodeError before)
    "http://" + "a" * 64 + ".example.com/x",          # a 64-character label
    "http://127.0.0.1:9901.evil.example/x",           # a "port" that is a host name
    "http://127.0.0.1:9/x\r\nX-Injected: 1",          # CR/LF
    "http://127.0.0.1:9/x y",                         # a space
    "http://127.0.0.1:0/x",                           # port 0
    "http://127.0.0.1:65536/x",                       # port out of range
    "http://\u2167.example.com/x",                    # Python's IDNA 2003 accepts it, httpx (IDNA 2008) does not
    "http://xn--a.example.com/x",                     # a punycode label httpx cannot decode
    "http://-bad-.example.com/x",                     # a label that starts with a hyphen
    "grpc://127.0.0.1:0",
    "grpc://127.0.0.1:9/path",
]


@pytest.mark.parametrize("endpoint", BAD)
def test_parse_url_refuses(endpoint: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_url(endpoint, "leg_event_endpoint")
    assert raised.value.field == "leg_event_endpoint"


@pytest.mark.parametrize("endpoint", ["https://hooks.example.com/a?b=1", "http://[::1]:8080/x", "grpc://h.example:50051",
                                      "grpcs://h.example:443", "https://b\u00fccher.example/x", "http://my_host.example/x"])
def test_parse_url_accepts_what_httpx_sends_to(endpoint: str) -> None:
    assert parse_url(endpoint, "leg_event_endpoint") == httpx.URL(endpoint)


def test_bad_endpoints_are_400_naming_the_field(events_api: Api) -> None:
    with httpx.Client(auth=events_api.account.auth, base_url=events_api.server.url) as http:
        for endpoint in BAD:
            response = http.post(events_api.base + "/legs", json={
                "contact_uri": "09163816621", "exophone": "08030752400", "leg_event_endpoint": endpoint})
            assert response.status_code == 400, (endpoint, response.text)
            assert response.json()["response"]["error_data"]["field"] == "leg_event_endpoint"
            bridge = http.post(events_api.base + "/bridges", json={
                "leg_sids": ["a", "b"], "bridge_event_endpoint": endpoint})
            assert bridge.status_code == 400, (endpoint, bridge.text)
            assert bridge.json()["response"]["error_data"]["field"] == "bridge_event_endpoint"


@pytest.mark.parametrize("endpoint", ["http://a..b/x", "http://127.0.0.1:0/x"])
def test_bad_inbound_endpoint_is_refused_by_name(events_server: LegatoServer, endpoint: str) -> None:
    with pytest.raises(RuntimeError, match="inbound_endpoint") as raised:
        events_server.create_account("--inbound-endpoint", endpoint)
    assert "Traceback" not in str(raised.value)
