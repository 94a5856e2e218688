"""The HTTP(S) sink: POST the JSON body with Standard Webhooks headers, one pooled client per host."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import certifi
import httpx

from legato import __version__
from legato.events.endpoints import EndpointPolicy, parse_url
from legato.events.pinned import pinned_client
from legato.events.signature import SignedEvent
from legato.events.sinks import NOT_SENT, Result, SinkKind, not_sent

BODY_READ_LIMIT = 64 * 1024  # bytes of a failure's body read to measure it (never shown, never stored)
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectError, "could not connect"), (httpx.RemoteProtocolError, "the answer was not valid HTTP"),
    (httpx.ReadError, "the connection broke while reading"), (httpx.WriteError, "the connection broke while sending"),
)


def classify(status_code: int) -> str:
    """2xx delivered; 408, 429 and 5xx are retried; anything else (3xx, other 4xx) fails for good."""
    if 200 <= status_code < 300:
        return "delivered"
    if status_code in (408, 429) or status_code >= 500:
        return "retry"
    return "failed"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


SHARD = 8  # connections per httpx client (see HttpSink._client)


class HttpSink:
    """POSTs events; connections are kept alive (HTTP/1.1) and pooled per scheme://host:port."""

    def __init__(self, policy: EndpointPolicy, timeout: float = 5.0, max_connections_per_host: int = 64) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_connections_per_host = max_connections_per_host
        self._clients: dict[str, list[tuple[httpx.AsyncClient, asyncio.Semaphore]]] = {}
        self._tls: ssl.SSLContext | None = None

    def prepare(self) -> None:
        """Do the slow first-use work now (TLS context, httpcore's lazy imports: ~0.3 s), not on the loop later."""
        import anyio._backends._asyncio  # noqa: F401
        import h11  # noqa: F401
        import httpcore._async.http11
        import httpcore._backends.anyio  # noqa: F401

        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())

    def _client(self, url: httpx.URL) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The least busy client of the endpoint host's pool.

        A host's connections are split over clients of at most SHARD connections each: httpcore scans
        every connection of its pool on each request, so one pool of 64 costs 8 times more per request
        than eight pools of 8. Requests wait on a client's semaphore rather than in httpcore's queue.
        """
        key = f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"
        shards = self._clients.get(key)
        if shards is None:
            if self._tls is None:  # one TLS context for every host (building one per client costs ~0.2 s)
                self._tls = ssl.create_default_context(cafile=certifi.where())
            shards = self._clients[key] = []
            left = self.max_connections_per_host
            while left > 0:
                size = min(SHARD, left)
                left -= size
                limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=60)
                client = pinned_client(self.policy, timeout=self.timeout, tls=self._tls, limits=limits,
                                       headers={"user-agent": f"legato/{__version__}"})
                shards.append((client, asyncio.Semaphore(size)))
        # Waiting for a connection counts against this host only: other hosts have their own pools.
        return max(shards, key=lambda shard: shard[1]._value)

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        """POST the signed body; a failure's body is measured, never echoed (it may be someone's secret)."""
        headers = {"content-type": "application/json", **event.headers}
        try:
            url = parse_url(endpoint, "endpoint", ("http", "https"))
            client, slots = self._client(url)
            async with slots, asyncio.timeout(self.timeout):
                request = client.build_request("POST", url, content=event.body.encode(), headers=headers)
                response = await client.send(request, stream=True)
                try:
                    outcome = classify(response.status_code)
                    size = await _body_size(response)  # read, so the connection can be kept alive
                finally:
                    await response.aclose()
        except NOT_SENT as exc:
            return not_sent(exc)
        except (TimeoutError, httpx.TimeoutException):
            return Result("retry", error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            reason = next((text for kind, text in _TRANSPORT_ERRORS if isinstance(exc, kind)), "the request failed")
            return Result("retry", error=f"{type(exc).__name__}: {reason}")
        code = response.status_code
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = None
        error = None if outcome == "delivered" else f"HTTP {code} {reason or ''}".rstrip() + f", body {size}"
        retry_after = parse_retry_after(response.headers.get("retry-after")) if outcome == "retry" else None
        return Result(outcome, code, reason, error, retry_after)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        pools, self._clients = list(self._clients.values()), {}
        for shards in pools:
            for client, _ in shards:
                await client.aclose()


async def _body_size(response: httpx.Response) -> str:
    """'N bytes' of the body, read at most to BODY_READ_LIMIT and thrown away."""
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read > BODY_READ_LIMIT:
            return f"over {BODY_READ_LIMIT} bytes (not shown)"
    return f"{read} bytes (not shown)"


SINK = SinkKind(("http", "https"), ("http://", "https://"),
                lambda options: HttpSink(options.policy, options.timeout, options.max_connections_per_host))
