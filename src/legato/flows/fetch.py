"""Fetching flow documents (and sending flow callbacks) as Twilio does: form-encoded, signed, with its timeouts.

Every connection goes to an address the endpoint policy allows (events/pinned.py). A URL's fragment tunes
the request as Twilio's connection overrides do: `#ct=` connect timeout, `#rt=` read timeout, `#tt=` total
timeout (milliseconds), `#rc=` retries, `#rp=` retry policy (ct, rt, 4xx, 5xx, all; comma-separated).
Redirects are followed as Twilio follows them (301, 302, 303, 307), each hop checked and signed for its own URL.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx

from legato import __version__
from legato.events.endpoints import EndpointPolicy, EndpointRefused, Unresolvable
from legato.events.pinned import pinned_client
from legato.events.signature import webhook_headers
from legato.flows.params import twilio_signature
from legato.flows.twiml import MAX_DOCUMENT, FlowError


@dataclass(frozen=True, slots=True)
class Overrides:
    """Twilio's connection overrides, in seconds (defaults: Twilio's for voice URLs)."""

    connect: float = 5.0
    read: float = 15.0
    total: float = 15.0
    retries: int = 1
    policy: frozenset[str] = frozenset({"ct"})

    @classmethod
    def from_fragment(cls, fragment: str) -> Overrides:
        values = dict(parse_qsl(fragment))
        base = cls()

        def seconds(name: str, default: float) -> float:
            raw = values.get(name, "")
            return min(int(raw), 600_000) / 1000 if raw.isdigit() and int(raw) > 0 else default

        retries = values.get("rc", "")
        policy = values.get("rp")
        return cls(
            seconds("ct", base.connect),
            seconds("rt", base.read),
            seconds("tt", base.total),
            min(int(retries), 5) if retries.isdigit() else base.retries,
            frozenset(policy.split(",")) if policy else base.policy,
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt: its retry class (ct, rt, 4xx, 5xx, refused) and what happened."""

    retry: str
    problem: str


@dataclass(frozen=True, slots=True)
class Redirect:
    """A 3xx answer: its status and Location."""

    status: int
    location: str


MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307})  # the statuses Twilio follows (its error 11216 for any other 3xx)


def split_fragment(url: str) -> tuple[str, Overrides]:
    """The URL to request (no fragment) and the overrides its fragment asks for."""
    bare, _, fragment = url.partition("#")
    return bare, Overrides.from_fragment(fragment)


class Fetcher:
    """Requests flow URLs for one server; `secret_of(account_sid)` gives the account's `whsec_` secret."""

    def __init__(
        self,
        policy: EndpointPolicy,
        secret_of: Callable[[str], Awaitable[str]],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self.secret_of = secret_of
        self.now = now
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = pinned_client(
                self.policy, timeout=15.0, headers={"user-agent": f"legato/{__version__} (TwiML)"}
            )
        return self._client

    async def fetch(self, account_sid: str, url: str, method: str, params: dict[str, str]) -> bytes:
        """The body of a 2xx answer (at most MAX_DOCUMENT bytes); FlowError (kind fetch) after the retries."""
        body = await self._fetch(account_sid, url, method, params, audio=False)
        assert body is not None
        return body

    async def fetch_wait(self, account_sid: str, url: str, method: str, params: dict[str, str]) -> bytes | None:
        """As `fetch` for a <Conference waitUrl>, which may answer audio: None then (its body is not read)."""
        return await self._fetch(account_sid, url, method, params, audio=True)

    async def _fetch(
        self, account_sid: str, url: str, method: str, params: dict[str, str], *, audio: bool
    ) -> bytes | None:
        bare, overrides = split_fragment(url)
        secret = await self.secret_of(account_sid)
        attempts = 1 + overrides.retries
        for attempt in range(attempts):
            outcome = await self._follow(bare, method, params, secret, overrides, audio)
            if outcome is None or isinstance(outcome, bytes):
                return outcome
            retried = outcome.retry in overrides.policy or "all" in overrides.policy
            if attempt + 1 >= attempts or not retried:
                raise FlowError("fetch", bare, f"{method} {bare}: {outcome.problem}")
        raise AssertionError("unreachable")

    async def _follow(
        self, url: str, method: str, params: dict[str, str], secret: str, overrides: Overrides, audio: bool = False
    ) -> bytes | Failure | None:
        """One attempt, following HTTP redirects as Twilio does (301, 302, 307 keep the method and a POST its form;
        303, and any redirect of a GET, get the Location as given; each request signed for its own URL; at most
        MAX_REDIRECTS; another 3xx or no Location is a failure)."""
        for _ in range(MAX_REDIRECTS + 1):
            outcome = await self._attempt(url, method, params, secret, overrides, audio)
            if not isinstance(outcome, Redirect):
                return outcome
            if outcome.status not in REDIRECTS or not outcome.location:
                problem = "not a redirect Legato follows (301, 302, 303, 307 with a Location)"
                return Failure("3xx", f"HTTP {outcome.status}: {problem}")
            url = urljoin(url, outcome.location).partition("#")[0]
            if urlsplit(url).scheme not in ("http", "https"):
                return Failure("3xx", f"HTTP {outcome.status}: a redirect to a URL that is not http(s)")
            if outcome.status == 303 or method == "GET":  # the Location as given (a GET's query was in its URL)
                method, params = "GET", {}
        return Failure("3xx", f"more than {MAX_REDIRECTS} redirects")

    async def _attempt(
        self, url: str, method: str, params: dict[str, str], secret: str, overrides: Overrides, audio: bool = False
    ) -> bytes | Failure | Redirect | None:
        """The body on success (None: an audio answer, when `audio` allows one), a redirect to follow, else what
        failed and its retry class."""
        if method == "GET":
            split = urlsplit(url)
            query = "&".join(q for q in (split.query, urlencode(params)) if q)
            url, body, signed = split._replace(query=query).geturl(), b"", {}
        else:
            body, signed = urlencode(params).encode(), params
        url = str(httpx.URL(url))  # as it goes on the wire (a space or an é percent-encoded): what is signed
        message_id, now = "msg_" + secrets.token_hex(12), self.now()
        headers = {
            "x-twilio-signature": twilio_signature(url, signed, secret),
            "i-twilio-idempotency-token": message_id,
            "accept": "application/xml, text/xml, */*",
            **webhook_headers(message_id, body.decode(), secret, now),
        }
        if method == "POST":
            headers["content-type"] = "application/x-www-form-urlencoded"
        timeout = httpx.Timeout(overrides.read, connect=overrides.connect)
        try:
            async with asyncio.timeout(overrides.total):
                request = self._http().build_request(method, url, content=body, headers=headers, timeout=timeout)
                response = await self._http().send(request, stream=True)
                try:
                    if 300 <= response.status_code < 400:
                        return Redirect(response.status_code, response.headers.get("location", ""))
                    if not 200 <= response.status_code < 300:
                        return Failure(f"{response.status_code // 100}xx", f"HTTP {response.status_code}")
                    if audio and response.headers.get("content-type", "").lower().startswith("audio/"):
                        return None
                    return await _read_limited(response)
                finally:
                    await response.aclose()
        except (EndpointRefused, Unresolvable) as exc:
            return Failure("refused", f"the address is not allowed ({exc})")
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return Failure("ct", f"could not connect ({type(exc).__name__})")
        except (TimeoutError, httpx.TimeoutException):
            return Failure("rt", "timed out")
        except httpx.HTTPError as exc:
            return Failure("rt", f"the request failed ({type(exc).__name__})")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _read_limited(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_DOCUMENT:
            raise FlowError("document", "Response", f"the document is over {MAX_DOCUMENT} bytes")
    return body
