"""SSRF safety: endpoints resolving to private, link-local or metadata addresses are refused."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import EndpointPolicy, binds_loopback
from tests.legato_server import Api, LegatoServer


@pytest.mark.parametrize("address", [
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.100.100.200", "0.0.0.0", "224.0.0.1",
    "fd00:ec2::254", "fe80::1", "::ffff:10.0.0.1", "::", "127.0.0.1", "::1"])
def test_private_link_local_metadata_and_loopback_are_refused(address: str) -> None:
    assert EndpointPolicy().refuses(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert EndpointPolicy().refuses(ipaddress.ip_address(address)) is None


def test_configured_networks_and_loopback_are_allowed() -> None:
    policy = EndpointPolicy(["10.0.0.0/8"], allow_loopback=True)
    assert policy.refuses(ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refuses(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refuses(ipaddress.ip_address("192.168.0.1")) is not None
    assert policy.refuses(ipaddress.ip_address("169.254.169.254")) is not None


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("10.0.0.5", False), ("::", False)])
def test_loopback_only_when_the_server_binds_loopback(host: str, loopback: bool) -> None:
    assert binds_loopback(host) is loopback


async def test_check_resolves_names() -> None:
    with pytest.raises(ValidationFailed, match="loopback"):
        await EndpointPolicy().check("http://localhost:9000/x")
    await EndpointPolicy(allow_loopback=True).check("grpc://localhost:9001")
    with pytest.raises(ValidationFailed, match="does not resolve"):
        await EndpointPolicy().check("https://no-such-host.invalid/x")


def _create(api: Api, endpoint: str) -> tuple[int, dict[str, object]]:
    response = api.create_leg("09163816621", leg_event_endpoint=endpoint)
    body = response.json()["response"]
    return response.status_code, body.get("error_data") or body.get("data")


def test_leg_creation_refuses_private_endpoints(events_api: Api) -> None:
    for endpoint in ("http://169.254.169.254/latest/meta-data", "https://10.0.0.7/hook", "grpc://192.168.1.2:9001",
                     "http://[fd00:ec2::254]/"):
        status, error = _create(events_api, endpoint)
        assert status == 400, endpoint
        assert error["field"] == "leg_event_endpoint"
    status, leg = _create(events_api, "http://127.0.0.1:9/events")  # this server binds 127.0.0.1
    assert status == 202
    events_api.action(str(leg["leg_sid"]), action="hangup")


def test_allow_list_and_public_bind(make_server: Callable[..., LegatoServer]) -> None:
    server = make_server(env={"LEGATO_HOST": "0.0.0.0", "LEGATO_ALLOW_PRIVATE_ENDPOINTS": '["10.0.0.0/8"]'}).start()
    api = Api(server, server.create_account())
    status, leg = _create(api, "http://10.1.2.3/hook")
    assert status == 202
    api.action(str(leg["leg_sid"]), action="hangup")
    status, error = _create(api, "http://127.0.0.1:9000/hook")  # bound to 0.0.0.0: loopback is refused
    assert status == 400 and "loopback" in str(error["message"])


def test_account_inbound_endpoint_is_checked(events_server: LegatoServer) -> None:
    with pytest.raises(RuntimeError, match="inbound_endpoint"):
        events_server.create_account("--inbound-endpoint", "http://169.254.169.254/")
    account = events_server.create_account()
    with pytest.raises(RuntimeError, match="inbound_endpoint"):
        events_server.cli("accounts", "update", account.account_sid, "--inbound-endpoint", "http://10.0.0.1/")
