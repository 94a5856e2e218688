"""Which event endpoints Legato may send to: no private, link-local or metadata addresses (SSRF).

An endpoint is checked when it is given (leg creation, an account's inbound endpoint): its host is
resolved and every address must be public, unless it falls in a network the configuration allows
(`allow_private_endpoints`). Loopback is allowed by default only when the server itself binds to a
loopback address (a developer machine), never when it listens on a public interface.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from legato.domain.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
RESOLVE_TIMEOUT = 3.0

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


def binds_loopback(host: str) -> bool:
    """True when the server's bind address is a loopback address or name."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class EndpointPolicy:
    """Refuses endpoints that resolve to addresses Legato must not post to."""

    def __init__(self, allowed: Iterable[str] = (), *, allow_loopback: bool = False) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)
        self.allow_loopback = allow_loopback

    @classmethod
    def for_server(cls, bind_host: str, allowed: Iterable[str] = ()) -> EndpointPolicy:
        """The policy of a server bound to `bind_host`."""
        return cls(allowed, allow_loopback=binds_loopback(bind_host))

    def refuses(self, address: IPAddress) -> str | None:
        """Why `address` is refused, or None when it may be used."""
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

    async def check(self, endpoint: str, field: str = "leg_event_endpoint") -> None:
        """Raise ValidationFailed (400) unless every address of the endpoint's host may be used."""
        parts = urlsplit(endpoint)
        host = parts.hostname
        if not host:
            raise ValidationFailed(f"{field} must name a host", field=field)
        for address in await _resolve(host, field):
            reason = self.refuses(address)
            if reason is not None:
                raise ValidationFailed(
                    f"{field} resolves to {address}, {reason}; event endpoints must be public "
                    "(LEGATO_ALLOW_PRIVATE_ENDPOINTS lists networks to allow)", field=field)


async def _resolve(host: str, field: str) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        raise ValidationFailed(f"{field} host {host!r} does not resolve", field=field) from None
    addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
    if not addresses:
        raise ValidationFailed(f"{field} host {host!r} does not resolve", field=field)
    return sorted(addresses, key=str)
