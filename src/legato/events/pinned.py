"""HTTP clients that connect only to addresses the endpoint policy allows, checked at connect time.

httpx resolves and connects inside httpcore's network backend; this backend resolves the host once
through `EndpointPolicy.addresses` and connects to those checked addresses, while the request keeps
its Host header and TLS server name (httpcore takes both from the URL, not from the socket). A
keep-alive connection is only ever one opened this way, so no request reaches an unchecked address.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from legato.events.endpoints import EndpointPolicy, EndpointRefused


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses `policy` allows."""

    def __init__(self, policy: EndpointPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore)
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        """Resolve `host` once, refuse it unless every address is allowed, connect to the first that answers."""
        failure: Exception | None = None
        for address in await self.policy.addresses(host):
            try:
                return await self._inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise EndpointRefused("unix sockets are not endpoints")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_client(policy: EndpointPolicy, *, timeout: float, tls: ssl.SSLContext | bool = True,
                  limits: httpx.Limits | None = None, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """An HTTP/1.1 client that follows no redirects, ignores proxy variables and connects through `policy`."""
    limits = limits or httpx.Limits()
    transport = httpx.AsyncHTTPTransport(verify=tls, http1=True, http2=False, trust_env=False, limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(  # the pool httpx would build, with the pinned backend
        ssl_context=transport._pool._ssl_context, max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
        http1=True, http2=False, network_backend=PinnedBackend(policy))
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(timeout), follow_redirects=False,
                             trust_env=False, headers=headers)
