"""Keep-alive HTTP/1.1 connections for webhooks, opened only to addresses the endpoint policy allows.

Each scheme://host:port has a pool of at most `limit` connections. A request takes the most recently
used idle connection, or opens one: the host is resolved once through `EndpointPolicy.addresses`
(which refuses forbidden addresses) and the allowed addresses are tried in turn, while the request
keeps the URL's Host header and TLS server name. So a kept-alive connection is only ever one opened
to a checked address (DNS rebinding gets nothing). Each connection is an asyncio protocol parsing
with httptools (the C parser uvicorn uses): a request is one write, and a connection the peer closes
leaves the pool as soon as the loop hears of it, so no socket is polled per request.

A request on a kept-alive connection that the peer closed before answering is sent once more on a
new connection (nothing of it was answered, and an event carries its id, so a receiver can tell).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Literal

import httptools

from legato.events.endpoints import EndpointPolicy

BODY_READ_LIMIT = 64 * 1024  # bytes of an answer's body read to measure it; a longer one closes the connection
HEAD_LIMIT = 64 * 1024  # bytes of status line and headers accepted before the answer is refused as not HTTP
FailureKind = Literal["connect", "protocol", "read"]


class ExchangeFailed(Exception):
    """No HTTP answer: could not connect (`connect`), the answer was not HTTP (`protocol`), or the
    connection broke before the answer was complete (`read`)."""

    def __init__(self, kind: FailureKind, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Answer:
    """The status and what was measured of an answer (its body is counted, never kept)."""

    status_code: int
    retry_after: str | None
    body_bytes: int
    body_over_limit: bool


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection carrying one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.waiter: asyncio.Future[tuple[Answer, bool]] | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.retry_after: str | None = None
        self.size = 0
        self.head_bytes = 0
        self.headers_done = False
        self.framed = False  # the answer says where its body ends (content-length or chunked)
        self.answered = False  # any byte of the answer arrived

    # ---- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection cannot be trusted any more
            self.close()
            return
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ExchangeFailed("protocol", str(exc)))
            return
        if not self.headers_done:
            self.head_bytes += len(data)
            if self.head_bytes > HEAD_LIMIT:
                self._fail(ExchangeFailed("protocol", "the answer's head is too long"))

    def eof_received(self) -> bool:
        return False  # close our side too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self.headers_done and not self.framed:  # a body that ends with the connection
                self._finish(reusable=False)
            else:
                self._fail(ExchangeFailed("read", "the connection closed before the answer was complete"))

    # ---- httptools callbacks -----------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"retry-after":
            self.retry_after = value.decode("latin-1")
        elif name in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > BODY_READ_LIMIT and self.waiter is not None:
            self._finish(reusable=False)  # measured enough; the rest is never read

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            self._reset()
            self.answered = True
            return
        if self.waiter is not None:
            self._finish(reusable=self.parser.should_keep_alive())

    # ---- requests ----------------------------------------------------------------------
    def request(self, data: bytes) -> asyncio.Future[tuple[Answer, bool]]:
        """Send one request; the future gives the answer and whether the connection can be kept."""
        assert self.transport is not None and self.waiter is None
        self._reset()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def _finish(self, *, reusable: bool) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            answer = Answer(self.status, self.retry_after, self.size, self.size > BODY_READ_LIMIT)
            waiter.set_result((answer, reusable and not self.closed))
        if not reusable:
            self.close()

    def _fail(self, exc: ExchangeFailed) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class _HostPool:
    """The connections to one scheme://host:port."""

    def __init__(self, limit: int) -> None:
        self.slots = asyncio.Semaphore(limit)
        self.idle: list[_Connection] = []  # most recently used last
        self.every: set[_Connection] = set()

    def take(self, oldest: float) -> _Connection | None:
        """The most recently used idle connection still open and used since `oldest` (monotonic)."""
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed and connection.idle_since >= oldest:
                return connection
            connection.close()
            self.every.discard(connection)
        return None


class ConnectionPool:
    """Keep-alive connections per scheme://host:port, at most `limit` each, to policy-checked addresses."""

    def __init__(self, policy: EndpointPolicy, limit: int = 64, keepalive_expiry: float = 60.0) -> None:
        self.policy = policy
        self.limit = limit
        self.keepalive_expiry = keepalive_expiry
        self.tls: ssl.SSLContext | None = None  # for https (the system's CAs when the owner sets none)
        self._hosts: dict[tuple[str, str, int], _HostPool] = {}

    async def exchange(self, scheme: str, host: str, port: int, request: bytes) -> Answer:
        """Send `request` (the whole HTTP/1.1 message) and return the answer.

        Raises ExchangeFailed, or EndpointRefused / Unresolvable from the policy before anything is sent.
        """
        key = (scheme, host, port)
        pool = self._hosts.get(key)
        if pool is None:
            pool = self._hosts[key] = _HostPool(self.limit)
        async with pool.slots:  # waiting for a connection counts against this host only
            connection = pool.take(time.monotonic() - self.keepalive_expiry)
            if connection is not None:
                try:
                    return await self._send(pool, connection, request)
                except ExchangeFailed as exc:
                    if connection.answered or exc.kind != "read":
                        raise
                    # the peer closed the kept-alive connection as the request went: once more, on a new one
            connection = await self._open(pool, scheme, host, port)
            return await self._send(pool, connection, request)

    async def _send(self, pool: _HostPool, connection: _Connection, request: bytes) -> Answer:
        try:
            answer, reusable = await connection.request(request)
        except BaseException:  # failed, timed out or cancelled: the connection's state is unknown
            connection.close()
            pool.every.discard(connection)
            raise
        if reusable:
            connection.idle_since = time.monotonic()
            pool.idle.append(connection)
        else:
            connection.close()
            pool.every.discard(connection)
        return answer

    async def _open(self, pool: _HostPool, scheme: str, host: str, port: int) -> _Connection:
        """Connect to the first allowed address of `host` that answers."""
        tls = (self.tls or ssl.create_default_context()) if scheme == "https" else None
        loop = asyncio.get_running_loop()
        failure: Exception | None = None
        for address in await self.policy.addresses(host):
            try:
                _, connection = await loop.create_connection(
                    _Connection, str(address), port, ssl=tls, server_hostname=host if tls else None
                )
            except OSError as exc:  # refused, unreachable, TLS handshake or certificate failure
                failure = exc
                continue
            pool.every.add(connection)
            return connection
        raise ExchangeFailed("connect", str(failure))

    async def aclose(self) -> None:
        """Close every connection."""
        hosts, self._hosts = list(self._hosts.values()), {}
        for pool in hosts:
            for connection in list(pool.every):
                connection.close()
            pool.every.clear()
            pool.idle.clear()
