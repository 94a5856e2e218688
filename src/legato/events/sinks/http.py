"""The HTTP(S) sink: POST the JSON body with Standard Webhooks headers, one pooled client per host."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import SplitResult, urlsplit

import certifi
import httpx

from legato import __version__
from legato.events.signature import SignedEvent
from legato.events.sinks import Result, SinkKind

_ERROR_BODY_CHARS = 300


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

    def __init__(self, timeout: float = 5.0, max_connections_per_host: int = 64) -> None:
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

    def _client(self, endpoint: str) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The least busy client of the endpoint host's pool.

        A host's connections are split over clients of at most SHARD connections each: httpcore scans
        every connection of its pool on each request, so one pool of 64 costs 8 times more per request
        than eight pools of 8. Requests wait on a client's semaphore rather than in httpcore's queue.
        """
        parts = urlsplit(endpoint)
        key = f"{parts.scheme}://{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
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
                client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), limits=limits, http1=True,
                                           http2=False, verify=self._tls, follow_redirects=False, trust_env=False,
                                           headers={"user-agent": f"legato/{__version__}"})
                shards.append((client, asyncio.Semaphore(size)))
        # Waiting for a connection counts against this host only: other hosts have their own pools.
        return max(shards, key=lambda shard: shard[1]._value)

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        headers = {"content-type": "application/json", **event.headers}
        client, slots = self._client(endpoint)
        try:
            async with slots, asyncio.timeout(self.timeout):
                response = await client.post(endpoint, content=event.body.encode(), headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return Result("retry", error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return Result("retry", error=f"{type(exc).__name__}: {exc}"[:_ERROR_BODY_CHARS] or type(exc).__name__)
        except Exception as exc:  # a sink never raises: anything unexpected is retried later
            return Result("retry", error=f"{type(exc).__name__}: {exc}"[:_ERROR_BODY_CHARS])
        code = response.status_code
        outcome = classify(code)
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = None
        error = None if outcome == "delivered" else (response.text[:_ERROR_BODY_CHARS] or f"HTTP {code}")
        retry_after = parse_retry_after(response.headers.get("retry-after")) if outcome == "retry" else None
        return Result(outcome, code, reason, error, retry_after)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        pools, self._clients = list(self._clients.values()), {}
        for shards in pools:
            for client, _ in shards:
                await client.aclose()


def _check(parts: SplitResult) -> str | None:
    return None if parts.hostname else "must name a host"


SINK = SinkKind(("http", "https"), ("http://", "https://"), _check,
                lambda options: HttpSink(options.timeout, options.max_connections_per_host))
