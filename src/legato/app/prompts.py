"""Where `play` may take audio from: WAV files under folders the operator allowed, or URLs under
prefixes the operator allowed (fetched once into a cache). Anything else is refused with a 400.

A URL is under a prefix when its parsed scheme, host and port equal the prefix's and its path lies in
the prefix's path (whole segments); user info and encoded dots or slashes are refused. The fetch goes
through the endpoint policy (the address connected to is checked), follows no redirects, and any
failure is one 400 that says nothing about what the fetch found (the details are logged).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from legato.domain.errors import ValidationFailed
from legato.events.endpoints import EndpointPolicy, EndpointRefused, Unresolvable, parse_url
from legato.events.pinned import pinned_client

log = logging.getLogger(__name__)
MAX_BYTES = 20 * 1024 * 1024  # the largest prompt fetched from a URL
FETCH_SECONDS = 10.0
NOT_FETCHED = (f"url could not be fetched as a WAV prompt: it must answer 200 with a WAV file of at most {MAX_BYTES} "
               "bytes, without redirects, from an allowed address")
_ENCODED_PATH_TRICKS = ("%2e", "%2f", "%5c", "\\")


@dataclass(frozen=True)
class PromptSources:
    """The operator's rules for `play` (Settings.play_dirs, play_url_prefixes, media_cache_dir)."""

    folders: tuple[Path, ...] = ()
    url_prefixes: tuple[str, ...] = ()
    cache_dir: Path = Path("media-cache")
    policy: EndpointPolicy = field(default_factory=lambda: EndpointPolicy(allow_loopback=True))
    _fetching: dict[str, asyncio.Lock] = field(default_factory=dict, compare=False)

    async def resolve(self, url: str) -> str:
        """The local path of the WAV to play for `url` (a file path or an http(s) URL)."""
        if url.startswith(("http://", "https://")):
            return await self._fetch(url)
        return await asyncio.to_thread(self._local, url.removeprefix("file://"))

    def _local(self, text: str) -> str:
        if not self.folders:
            raise ValidationFailed("url: no folder is allowed for play files on this server "
                                   "(LEGATO_PLAY_DIRS)", field="url")
        candidate = Path(text)
        roots = [folder.resolve() for folder in self.folders]
        paths = [candidate.resolve()] if candidate.is_absolute() else [(root / candidate).resolve() for root in roots]
        for path in paths:
            if any(path == root or root in path.parents for root in roots) and path.is_file():
                _check_wav(path)
                return str(path)
        raise ValidationFailed("url must name a WAV file under a folder allowed for play", field="url")

    def _allowed(self, url: str) -> httpx.URL:
        """`url` parsed; 400 unless it lies under one of the allowed prefixes (compared parsed, not as text)."""
        parsed = parse_url(url, "url", ("http", "https"))
        path = parsed.raw_path.split(b"?")[0].decode("ascii")
        if parsed.userinfo or any(trick in path.lower() for trick in _ENCODED_PATH_TRICKS) or not any(
                _under(parsed, path, prefix) for prefix in self.url_prefixes):
            raise ValidationFailed("url must lie under a prefix allowed for play (LEGATO_PLAY_URL_PREFIXES): "
                                   "same scheme, host and port, a path inside the prefix's, no user info",
                                   field="url")
        return parsed

    async def _fetch(self, url: str) -> str:
        parsed = self._allowed(url)
        target = self.cache_dir / f"prompt-{hashlib.sha256(url.encode()).hexdigest()[:32]}.wav"
        lock = self._fetching.setdefault(url, asyncio.Lock())
        async with lock:
            if await asyncio.to_thread(target.is_file):
                return str(target)
            try:
                body = await self._download(parsed)
            except (httpx.HTTPError, EndpointRefused, Unresolvable, _TooLarge, _NotOk) as exc:
                log.warning("play url not fetched url=%s error=%s: %s", url, type(exc).__name__, exc)
                raise ValidationFailed(NOT_FETCHED, field="url") from None
            await asyncio.to_thread(self._store, target, bytes(body))
        return str(target)

    async def _download(self, url: httpx.URL) -> bytes:
        """The body of a 200 answer to GET `url`, at most MAX_BYTES, from an address the policy allows."""
        async with pinned_client(self.policy, timeout=FETCH_SECONDS) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise _NotOk(f"HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise _TooLarge(f"over {MAX_BYTES} bytes")
            return bytes(body)

    @staticmethod
    def _store(target: Path, body: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(body)
        try:
            _check_wav(partial)
        except ValidationFailed:
            partial.unlink(missing_ok=True)
            log.warning("play url not fetched target=%s error=not a WAV file", target.name)
            raise ValidationFailed(NOT_FETCHED, field="url") from None
        partial.replace(target)


def _check_wav(path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as wav:
            wav.getnframes()
    except (OSError, wave.Error, EOFError):
        raise ValidationFailed("url is not a WAV file", field="url") from None


class _NotOk(Exception):
    """The play URL answered other than 200."""


class _TooLarge(Exception):
    """The play URL's body is larger than MAX_BYTES."""


def _under(url: httpx.URL, path: str, prefix: str) -> bool:
    """True when `url` (with unquoted-as-sent `path`) has `prefix`'s origin and lies within its path."""
    try:
        allowed = httpx.URL(prefix)
    except (httpx.InvalidURL, ValueError):
        return False
    if (url.scheme, url.raw_host.lower(), url.port) != (allowed.scheme, allowed.raw_host.lower(), allowed.port):
        return False
    base = allowed.raw_path.split(b"?")[0].decode("ascii")
    return path == base or path.startswith(base.rstrip("/") + "/")
