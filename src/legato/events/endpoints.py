"""Which endpoints Legato may send to: well-formed URLs whose host resolves to public addresses (SSRF).

Every URL Legato will connect to (event endpoints, play URLs) is parsed here with the parser that
sends to it (`httpx.URL`), so what is accepted with a 202 can be sent to. Addresses are checked twice:
when an endpoint is given (a 400 names the field) and at every connection Legato opens, on the address
it actually connects to (`EndpointPolicy.addresses`), so a name that later resolves elsewhere (DNS
rebinding) gets nothing. Private, link-local and metadata addresses are refused unless the
configuration allows their network (`allow_private_endpoints`); loopback is allowed by default only
when the server itself binds to a loopback address (a developer machine).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpx

from legato.domain.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Awaitable[list[IPAddress]]]
"""host name -> its addresses; raises OSError or TimeoutError when it does not resolve."""
RESOLVE_TIMEOUT = 3.0
_VERDICTS_KEPT = 4096
EVENT_SCHEMES = ("http", "https", "grpc", "grpcs")
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")

# Not all of these are `is_private` in the ipaddress module; every one is unsafe to post to.
_BLOCKED: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8",          # "this network"
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",      # carrier-grade NAT; also Alibaba Cloud metadata (100.100.100.200)
    "127.0.0.0/8",        # loopback
    "169.254.0.0/16",     # link-local; AWS/GCP/Azure/OpenStack metadata (169.254.169.254)
    "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "fc00::/7",  # unspecified, loopback, unique local (AWS IPv6 metadata fd00:ec2::254)
    "fe80::/10", "ff00::/8", "64:ff9b:1::/48", "2001:db8::/32", "100::/64",
))
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class EndpointRefused(Exception):
    """Nothing was sent: the endpoint's host resolves to an address Legato must not connect to."""


class Unresolvable(Exception):
    """The endpoint's host does not resolve (now): worth trying again later."""


def binds_loopback(host: str) -> bool:
    """True when the server's bind address is a loopback address or name."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(value: str, field: str, schemes: Iterable[str] = EVENT_SCHEMES) -> httpx.URL:
    """`value` parsed as the sender will parse it; 400 naming `field` unless it is a URL Legato can send to.

    The host must be an IP address or a DNS name of labels of 1-63 letters, digits, `-` or `_` (after
    IDNA), the port 1-65535; gRPC endpoints are exactly `grpc(s)://host:port`.
    """
    return _parse_url(value, field, tuple(schemes))


@functools.lru_cache(maxsize=4096)  # pure; a leg's endpoint is checked at create and at every attempt
def _parse_url(value: str, field: str, schemes: tuple[str, ...]) -> httpx.URL:
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        raise ValidationFailed(f"{field} must not contain spaces or control characters (CR, LF, ...)", field=field)
    try:
        url = httpx.URL(value)
        host = url.raw_host.decode("ascii").lower()
        url.host  # noqa: B018 - decoding the IDNA name back is where httpx refuses some names (xn--a)
    except (httpx.InvalidURL, ValueError) as exc:  # idna raises UnicodeError (a ValueError) on its own
        raise ValidationFailed(f"{field} is not a valid URL ({_first_line(exc)})", field=field) from None
    if url.scheme not in schemes:
        raise ValidationFailed(f"{field} must start with {', '.join(s + '://' for s in schemes)}", field=field)
    if not host:
        raise ValidationFailed(f"{field} must name a host", field=field)
    if not _valid_host(host):
        raise ValidationFailed(f"{field} host {host!r} is not a valid DNS name or IP address", field=field)
    if url.port is not None and not 0 < url.port < 65536:
        raise ValidationFailed(f"{field} port must be 1-65535", field=field)
    if url.scheme.startswith("grpc") and (url.port is None or url.raw_path != b"/" or url.userinfo
                                          or url.fragment or "?" in value):
        raise ValidationFailed(f"{field} must be grpc://host:port", field=field)
    return url


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host.removesuffix(".")
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


async def system_resolver(host: str) -> list[IPAddress]:
    """The host's addresses from the operating system's resolver (getaddrinfo), at most RESOLVE_TIMEOUT."""
    async with asyncio.timeout(RESOLVE_TIMEOUT):
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


@functools.lru_cache(maxsize=1024)
def _literal(host: str) -> IPAddress:
    """The address a host written as an IP address is; ValueError for a name."""
    return ipaddress.ip_address(host.strip("[]"))


class EndpointPolicy:
    """Refuses endpoints that resolve to addresses Legato must not connect to."""

    def __init__(self, allowed: Iterable[str] = (), *, allow_loopback: bool = False,
                 resolver: Resolver = system_resolver) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self._verdicts: dict[IPAddress, str | None] = {}  # refuses() by address (the policy never changes)

    @classmethod
    def for_server(cls, bind_host: str, allowed: Iterable[str] = ()) -> EndpointPolicy:
        """The policy of a server bound to `bind_host`."""
        return cls(allowed, allow_loopback=binds_loopback(bind_host))

    def refuses(self, address: IPAddress) -> str | None:
        """Why `address` is refused, or None when it may be used."""
        try:
            return self._verdicts[address]
        except KeyError:
            pass
        if len(self._verdicts) >= _VERDICTS_KEPT:
            self._verdicts.clear()
        reason = self._verdicts[address] = self._refuses(address)
        return reason

    def _refuses(self, address: IPAddress) -> str | None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed if network.version == address.version):
            return None
        if address.is_loopback:
            return None if self.allow_loopback else "a loopback address"
        if address.is_link_local:
            return "a link-local (cloud metadata) address"
        if any(address in network for network in _BLOCKED if network.version == address.version) \
                or address.is_private or address.is_reserved or address.is_multicast or address.is_unspecified:
            return "a private or reserved address"
        return None

    async def addresses(self, host: str) -> list[IPAddress]:
        """Resolve `host` once and return its addresses (IPv4 first) to connect to, all of them allowed.

        Raises Unresolvable when the host does not resolve, EndpointRefused when any address is refused.
        """
        try:
            found = [_literal(host)]
        except ValueError:
            try:
                found = await self.resolver(host)
            except (OSError, TimeoutError, UnicodeError):
                raise Unresolvable(f"host {host!r} does not resolve") from None
        if not found:
            raise Unresolvable(f"host {host!r} does not resolve")
        for address in found:
            reason = self.refuses(address)
            if reason is not None:
                raise EndpointRefused(f"host {host!r} resolves to {address}, {reason}")
        return sorted(set(found), key=lambda a: (a.version, str(a)))

    async def check(self, endpoint: str, field: str = "leg_event_endpoint",
                    schemes: Iterable[str] = EVENT_SCHEMES) -> httpx.URL:
        """The parsed endpoint; 400 naming `field` unless it is well formed and every address may be used."""
        url = parse_url(endpoint, field, schemes)
        try:
            await self.addresses(url.raw_host.decode("ascii"))
        except Unresolvable as exc:
            raise ValidationFailed(f"{field} {exc}", field=field) from None
        except EndpointRefused as exc:
            raise ValidationFailed(f"{field} {exc}; endpoints must be public "
                                   "(LEGATO_ALLOW_PRIVATE_ENDPOINTS lists networks to allow)", field=field) from None
        return url
