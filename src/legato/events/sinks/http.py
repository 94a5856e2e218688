"""The HTTP(S) sink: POST the JSON body with Standard Webhooks headers over pooled keep-alive connections (a
Twilio-form event: its form POSTed, or its parameters in a GET's query string)."""

from __future__ import annotations

import asyncio
import base64
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import certifi

from legato import __version__
from legato.events.connections import BODY_READ_LIMIT, ConnectionPool, ExchangeFailed
from legato.events.endpoints import EndpointPolicy, parse_url
from legato.events.signature import JSON, SignedEvent
from legato.events.sinks import NOT_SENT, Result, SinkKind, not_sent

_FAILURES = {"connect": "ConnectError: could not connect",
             "protocol": "RemoteProtocolError: the answer was not valid HTTP",
             "read": "ReadError: the connection broke while reading"}
_TARGETS_KEPT = 10_000  # parsed endpoints remembered (a leg's events all go to one)


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


class HttpSink:
    """POSTs events over keep-alive HTTP/1.1 connections, pooled per scheme://host:port (events/connections.py)."""

    def __init__(self, policy: EndpointPolicy, timeout: float = 5.0, max_connections_per_host: int = 64) -> None:
        self.policy = policy
        self.timeout = timeout
        self.max_connections_per_host = max_connections_per_host
        self._pool = ConnectionPool(policy, max_connections_per_host)
        self._agent = f"user-agent: legato/{__version__}\r\n".encode()
        self._fixed = self._agent + b"content-type: application/json\r\naccept: */*\r\n"
        self._targets: dict[str, tuple[str, str, int, bytes]] = {}  # endpoint -> scheme, host, port, request head

    def prepare(self) -> None:
        """Do the slow first-use work now (the TLS context: ~0.2 s), not on the loop later."""
        if self._pool.tls is None:  # one TLS context for every host
            self._pool.tls = ssl.create_default_context(cafile=certifi.where())

    def _target(self, endpoint: str) -> tuple[str, str, int, bytes]:
        """Where `endpoint` goes and the start of its request (request line, Host, fixed headers)."""
        target = self._targets.get(endpoint)
        if target is None:
            url = parse_url(endpoint, "endpoint", ("http", "https"))
            head = b"POST " + url.raw_path + b" HTTP/1.1\r\nhost: " + url.netloc + b"\r\n" + self._fixed
            if url.userinfo:  # credentials in the URL: HTTP Basic, as httpx sends them
                user = f"{url.username}:{url.password}".encode()
                head += b"authorization: Basic " + base64.b64encode(user) + b"\r\n"
            port = url.port or (443 if url.scheme == "https" else 80)
            if url.scheme == "https":
                self.prepare()
            target = (url.scheme, url.raw_host.decode("ascii").strip("[]"), port, head)
            if len(self._targets) >= _TARGETS_KEPT:
                self._targets.clear()
            self._targets[endpoint] = target
        return target

    def _form_head(self, endpoint: str, event: SignedEvent) -> bytes:
        """The start of a Twilio-form event's request: its method, the query a GET carries, its content type."""
        url = parse_url(endpoint, "endpoint", ("http", "https"))
        path = url.raw_path
        if event.query:
            path += (b"&" if b"?" in path else b"?") + event.query.encode()
        head = event.method.encode() + b" " + path + b" HTTP/1.1\r\nhost: " + url.netloc + b"\r\n" + self._agent
        if event.content_type is not None:
            head += b"content-type: " + event.content_type.encode() + b"\r\n"
        head += b"accept: */*\r\n"
        if url.userinfo:
            head += b"authorization: Basic " + base64.b64encode(f"{url.username}:{url.password}".encode()) + b"\r\n"
        return head

    async def deliver(self, endpoint: str, event: SignedEvent, payload: dict[str, Any]) -> Result:
        """Send the signed body; a failure's body is measured, never echoed (it may be someone's secret)."""
        try:
            scheme, host, port, head = self._target(endpoint)
            if event.method != "POST" or event.content_type != JSON or event.query:
                head = self._form_head(endpoint, event)
            body = event.body.encode()
            signed = "".join(f"{name}: {value}\r\n" for name, value in event.headers.items())
            request = b"".join((head, signed.encode(), b"content-length: %d\r\n\r\n" % len(body), body))
            async with asyncio.timeout(self.timeout):
                answer = await self._pool.exchange(scheme, host, port, request)
        except NOT_SENT as exc:
            return not_sent(exc)
        except TimeoutError:
            return Result("retry", error=f"timed out after {self.timeout:g} s")
        except ExchangeFailed as exc:
            return Result("retry", error=_FAILURES[exc.kind])
        code = answer.status_code
        outcome = classify(code)
        if outcome == "delivered":
            return Result(outcome, code, _reason(code))
        size = f"over {BODY_READ_LIMIT}" if answer.body_over_limit else str(answer.body_bytes)
        error = f"HTTP {code} {_reason(code) or ''}".rstrip() + f", body {size} bytes (not shown)"
        retry_after = parse_retry_after(answer.retry_after) if outcome == "retry" else None
        return Result(outcome, code, _reason(code), error, retry_after)

    async def aclose(self) -> None:
        await self._pool.aclose()


def _reason(code: int) -> str | None:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return None


SINK = SinkKind(("http", "https"), ("http://", "https://"),
                lambda options: HttpSink(options.policy, options.timeout, options.max_connections_per_host))
