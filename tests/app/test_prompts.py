"""Play URLs: parsed origins and paths, the endpoint policy at fetch time, no redirects, opaque 400s.

Real HTTP servers on 127.0.0.1 (the allowed prompt host) and 127.0.0.3 (a host the URL tries to reach
instead); the 127.0.0.3 server must never get a request.
"""

from __future__ import annotations

import io
import ipaddress
import threading
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from legato.app.prompts import NOT_FETCHED, PromptSources
from legato.domain.errors import ValidationFailed
from legato.events.endpoints import EndpointPolicy, IPAddress


def wav_bytes() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


class FileServer:
    """GET server: `routes[path] = (status, headers, body)`; records every path asked for."""

    def __init__(self, host: str, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.asked: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.asked.append(self.path)
                status, headers, body = routes.get(self.path, (404, {}, b"no such prompt here"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer((host, 0), Handler)
        self.http.daemon_threads = True
        self.origin = f"http://{host}:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def hosts() -> Iterator[tuple[FileServer, FileServer]]:
    secret = FileServer("127.0.0.3", {"/admin/secret.wav": (200, {}, wav_bytes())})
    prompts = FileServer("127.0.0.1", {
        "/prompts/hello.wav": (200, {}, wav_bytes()),
        "/prompts/moved.wav": (302, {"location": f"{secret.origin}/admin/secret.wav"}, b""),
        "/prompts/broken.wav": (500, {}, b"stack trace: db at 10.0.0.5"),
        "/prompts/text.wav": (200, {}, b"root:x:0:0:root:/root:/bin/bash"),
    })
    yield prompts, secret
    prompts.close()
    secret.close()


def sources(tmp_path: Path, *prefixes: str, policy: EndpointPolicy | None = None) -> PromptSources:
    return PromptSources(url_prefixes=prefixes, cache_dir=tmp_path,
                         policy=policy or EndpointPolicy(allow_loopback=True))


async def refused(source: PromptSources, url: str) -> str:
    with pytest.raises(ValidationFailed) as raised:
        await source.resolve(url)
    assert raised.value.field == "url"
    return raised.value.message


async def test_a_url_under_the_prefix_is_fetched(hosts: tuple[FileServer, FileServer], tmp_path: Path) -> None:
    prompts, _ = hosts
    path = await sources(tmp_path, f"{prompts.origin}/prompts/").resolve(f"{prompts.origin}/prompts/hello.wav")
    assert path.startswith(str(tmp_path))
    with wave.open(path, "rb") as wav:
        assert wav.getnframes() == 800


async def test_origins_and_paths_are_compared_parsed(hosts: tuple[FileServer, FileServer], tmp_path: Path) -> None:
    prompts, secret = hosts
    host_port = prompts.origin.removeprefix("http://")
    source = sources(tmp_path, prompts.origin, f"{prompts.origin}/prompts")
    narrow = sources(tmp_path, f"{prompts.origin}/prompts")
    for url in (f"{prompts.origin}@{secret.origin.removeprefix('http://')}/admin/secret.wav",  # user info trick
                f"http://{host_port}.evil.example/x.wav"):  # the prefix's port continued as a host name
        await refused(source, url)
    for url in (f"{prompts.origin}/prompts/../admin/secret.wav", f"{prompts.origin}/prompts/%2e%2e/secret.wav",
                f"{prompts.origin}/prompts-private/x.wav", f"{secret.origin}/prompts/hello.wav"):
        await refused(narrow, url)
    assert secret.asked == []
    assert prompts.asked == []


async def test_fetch_failures_look_alike_and_follow_no_redirect(hosts: tuple[FileServer, FileServer],
                                                               tmp_path: Path) -> None:
    prompts, secret = hosts
    source = sources(tmp_path, f"{prompts.origin}/prompts/")
    messages = {await refused(source, f"{prompts.origin}/prompts/{name}")
                for name in ("moved.wav", "broken.wav", "text.wav", "missing.wav")}
    assert messages == {NOT_FETCHED}
    assert secret.asked == []


class Resolves:
    def __init__(self, address: str) -> None:
        self.address = ipaddress.ip_address(address)

    async def __call__(self, host: str) -> list[IPAddress]:
        return [self.address]


async def test_the_fetch_goes_through_the_endpoint_policy(hosts: tuple[FileServer, FileServer],
                                                         tmp_path: Path) -> None:
    """The prefix names a host that now resolves to a refused address: nothing is fetched."""
    _, secret = hosts
    port = secret.origin.rsplit(":", 1)[1]
    policy = EndpointPolicy(["127.0.0.1/32"], allow_loopback=False, resolver=Resolves("127.0.0.3"))
    source = sources(tmp_path, f"http://prompts.example:{port}/", policy=policy)
    assert await refused(source, f"http://prompts.example:{port}/admin/secret.wav") == NOT_FETCHED
    assert secret.asked == []
