"""Where outbound INVITEs go and how numbers are written."""

from __future__ import annotations

import pytest

from legato.network.base import DialRequest
from legato.network.sip.config import parse_config
from legato.network.sip.route import NoRoute, route_for, trunk_name

CONFIG = parse_config({
    "default_trunk": "main",
    "trunks": [{"name": "main", "proxy": "sip:10.0.0.1", "number_format": "e164"},
               {"name": "local", "proxy": "sip:10.0.0.2:5080", "number_format": "national",
                "username": "u", "password": "p", "caller_id": "+918047000000"}],
    "exophones": [{"number": "+918047112233", "account_sid": "a", "trunk": "local"}],
})


def request(destination: str, caller_id: str = "+919163816621") -> DialRequest:
    kind = "sip" if destination.startswith("sip:") else "number"
    return DialRequest(leg_sid="l", account_sid="a", destination=destination, destination_kind=kind,
                       caller_id=caller_id)


def test_number_uses_default_trunk_in_e164() -> None:
    route = route_for(request("+919876543210"), CONFIG)
    assert (route.host, route.port, route.called, route.calling, route.trunk) == (
        "10.0.0.1", 5060, "+919876543210", "+919163816621", "main")


def test_number_uses_exophone_trunk_national_with_fixed_caller_id() -> None:
    route = route_for(request("+919876543210", caller_id="+918047112233"), CONFIG)
    assert (route.host, route.port, route.called, route.calling) == ("10.0.0.2", 5080, "09876543210",
                                                                     "08047000000")
    assert (route.username, route.password) == ("u", "p")


def test_sip_uri_goes_straight_to_the_uri() -> None:
    route = route_for(request("sip:alice@192.0.2.5:5062"), CONFIG)
    assert (route.host, route.port, route.called, route.trunk) == ("192.0.2.5", 5062, "alice", None)


def test_no_trunk_is_no_route() -> None:
    with pytest.raises(NoRoute):
        route_for(request("+919876543210"), parse_config({}))


def test_trunk_name_is_the_key_of_per_trunk_limits() -> None:
    assert trunk_name("+918047112233", CONFIG) == "local"  # the exophone's trunk
    assert trunk_name("+919163816621", CONFIG) == "main"  # the default
    assert trunk_name("+918047112233", CONFIG, requested="main") == "main"


@pytest.mark.parametrize("written", ["+918047112233", "08047112233", "918047112233", "080-4711-2233"])
def test_exophone_trunk_is_found_however_the_number_is_written(written: str) -> None:
    assert trunk_name(written, CONFIG) == "local"
    assert route_for(request("+919876543210", caller_id=written), CONFIG).trunk == "local"
