"""Where an outbound leg's INVITE goes: a trunk for numbers, the URI itself for sip: destinations."""

from __future__ import annotations

from dataclasses import dataclass

from legato.domain.errors import ValidationFailed
from legato.domain.numbers import national_format, parse_address, parse_sip_uri
from legato.network.base import DialRequest
from legato.network.sip.config import SipConfig, Trunk


class NoRoute(Exception):
    """The leg cannot be sent anywhere (no trunk for a number, malformed destination)."""


@dataclass(frozen=True, slots=True)
class Route:
    """The next hop and the users to put in the Request-URI and From."""

    host: str
    port: int
    called: str | None  # Request-URI / To user
    calling: str  # From user
    username: str | None = None
    password: str | None = None
    trunk: str | None = None


def format_number(e164: str, number_format: str) -> str:
    """A number as a trunk wants it: E.164 (+919163816621) or national with the trunk prefix (09163816621)."""
    return national_format(e164) if number_format == "national" else e164


def _caller_user(caller_id: str, trunk: Trunk | None) -> str:
    rule = trunk.caller_id if trunk is not None else "exophone"
    source = caller_id if rule == "exophone" else rule
    try:
        address = parse_address(source, "caller_id")
    except ValidationFailed:
        return "anonymous"
    if address.kind == "sip":
        return address.user or "anonymous"
    assert address.e164 is not None
    return format_number(address.e164, trunk.number_format) if trunk is not None else address.e164


def trunk_name(caller_id: str, config: SipConfig, requested: str | None = None) -> str | None:
    """The trunk a number is sent through: the one asked for, the exophone's, or the default."""
    exophone = config.exophone(caller_id)
    return requested or (exophone.trunk if exophone else None) or config.default_trunk


def route_for(request: DialRequest, config: SipConfig) -> Route:
    """Pick the next hop for a dial request; raises NoRoute when there is none."""
    if request.destination_kind == "sip":
        try:
            uri = parse_sip_uri(request.destination, "destination")
        except ValidationFailed as exc:
            raise NoRoute(exc.message) from None
        assert uri.host is not None
        return Route(host=uri.host.strip("[]"), port=uri.port or 5060, called=uri.user,
                     calling=_caller_user(request.caller_id, None))
    name = trunk_name(request.caller_id, config, request.options.get("trunk"))
    trunk = config.trunk(name) if name else None
    if trunk is None:
        raise NoRoute(f"no trunk for {request.destination} (caller id {request.caller_id}, no default_trunk)")
    proxy = trunk.proxy_address
    assert proxy.host is not None
    return Route(host=proxy.host.strip("[]"), port=proxy.port or 5060,
                 called=format_number(request.destination, trunk.number_format),
                 calling=_caller_user(request.caller_id, trunk),
                 username=trunk.username, password=trunk.password, trunk=trunk.name)
