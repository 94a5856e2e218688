"""Who may start a call: new INVITEs are taken only from the trunks' addresses and the configured networks.

Anyone else gets a stateless 403, at most `burst` at once and `rate` a second per source address;
beyond that their INVITEs are dropped unread. The per-source state is bounded (`max_sources`, least
recently seen forgotten first), so a flood from many addresses costs a fixed amount of memory.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from legato.network.sip.config import SipConfig

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[[str], list[str]]

REFUSALS_PER_SECOND = 2.0  # 403s sent to one unlisted source, on average...
REFUSAL_BURST = 10  # ...and at once
MAX_SOURCES = 4096  # unlisted sources remembered for rate limiting


def resolve_host(host: str) -> list[str]:
    """Every address a host name (or literal address) stands for; empty when it does not resolve."""
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)})
    except OSError as exc:
        log.warning("trunk host %s does not resolve (%s): its INVITEs will be refused", host, exc)
        return []


def trusted_networks(config: SipConfig, resolve: Resolve = resolve_host) -> list[Network]:
    """The trunks' proxy addresses (resolved now) and the configured `inbound_networks`."""
    networks: list[Network] = list(config.inbound_networks)
    for trunk in config.trunks:
        host = trunk.proxy_address.host
        for address in resolve(host.strip("[]")) if host else []:
            try:
                networks.append(ipaddress.ip_network(address.split("%", 1)[0]))  # no IPv6 zone index
            except ValueError:
                log.warning("trunk %s resolves to %r, which is not an address", trunk.name, address)
    return networks


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class SourceGate:
    """Decides whether a source address may start calls, and how often an unlisted one is answered."""

    def __init__(self, networks: Iterable[Network], *, rate: float = REFUSALS_PER_SECOND,
                 burst: int = REFUSAL_BURST, max_sources: int = MAX_SOURCES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.networks = list(networks)
        self.rate = rate
        self.burst = burst
        self.max_sources = max_sources
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self.refused = 0  # INVITEs answered 403
        self.dropped = 0  # INVITEs beyond the rate, not even read

    def trusted(self, host: str) -> bool:
        """True when `host` (an address as sippy reports it, IPv6 in brackets) is a trunk's or in a network."""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def admit(self, host: str) -> bool:
        """Count one refused INVITE from `host`: True when it may still be answered (403), False to drop it."""
        now = self.clock()
        bucket = self._buckets.pop(host, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            while len(self._buckets) >= self.max_sources:
                self._buckets.popitem(last=False)
        else:
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[host] = bucket
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            self.refused += 1
            return True
        self.dropped += 1
        return False

    @property
    def sources(self) -> int:
        """Unlisted sources remembered now (at most `max_sources`)."""
        return len(self._buckets)

    def figures(self) -> dict[str, int]:
        """Counters for logs and tests."""
        return {"refused": self.refused, "dropped": self.dropped, "sources": self.sources}
