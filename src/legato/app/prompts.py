"""Where `play` may take audio from: WAV files under folders the operator allowed, or URLs under
prefixes the operator allowed (fetched once into a cache). Anything else is refused with a 400."""

from __future__ import annotations

import asyncio
import hashlib
import wave
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from legato.domain.errors import ValidationFailed

MAX_BYTES = 20 * 1024 * 1024  # the largest prompt fetched from a URL
FETCH_SECONDS = 10.0


@dataclass(frozen=True)
class PromptSources:
    """The operator's rules for `play` (Settings.play_dirs, play_url_prefixes, media_cache_dir)."""

    folders: tuple[Path, ...] = ()
    url_prefixes: tuple[str, ...] = ()
    cache_dir: Path = Path("media-cache")
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

    async def _fetch(self, url: str) -> str:
        if not any(url.startswith(prefix) for prefix in self.url_prefixes):
            raise ValidationFailed("url must start with a prefix allowed for play (LEGATO_PLAY_URL_PREFIXES)",
                                   field="url")
        target = self.cache_dir / f"prompt-{hashlib.sha256(url.encode()).hexdigest()[:32]}.wav"
        lock = self._fetching.setdefault(url, asyncio.Lock())
        async with lock:
            if await asyncio.to_thread(target.is_file):
                return str(target)
            try:
                async with httpx.AsyncClient(timeout=FETCH_SECONDS, follow_redirects=False) as client, \
                        client.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise ValidationFailed(f"url answered {response.status_code}", field="url")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_BYTES:
                            raise ValidationFailed(f"url is larger than {MAX_BYTES} bytes", field="url")
            except httpx.HTTPError as exc:
                raise ValidationFailed(f"url could not be fetched ({exc.__class__.__name__})", field="url") from None
            await asyncio.to_thread(self._store, target, bytes(body))
        return str(target)

    @staticmethod
    def _store(target: Path, body: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(body)
        try:
            _check_wav(partial)
        except ValidationFailed:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)


def _check_wav(path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as wav:
            wav.getnframes()
    except (OSError, wave.Error, EOFError):
        raise ValidationFailed("url is not a WAV file", field="url") from None
