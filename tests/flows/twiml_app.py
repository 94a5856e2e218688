"""A real TwiML application for tests: an HTTP server on 127.0.0.1 (in a thread) answering each path with the
document its route builds (with Twilio's VoiceResponse), recording every request it got."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from tests.legato_server import Api
from tests.waiting import wait_for

Route = Callable[[dict[str, str]], "str | bytes | int | tuple[int, str]"]
"""The request's parameters -> a TwiML document, a WAV file's bytes (served as audio/wav), an HTTP status to
fail with, or (a 3xx status, its Location)."""


@dataclass
class Request:
    method: str
    path: str
    url: str  # as the application sees it (what Twilio signs)
    params: dict[str, str]
    headers: dict[str, str]
    body: str


class TwimlApp:
    """Routes by path; `requests` in arrival order."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        app = self

        class Handler(BaseHTTPRequestHandler):
            wbufsize = 1 << 16  # the answer in one write (separate small writes meet delayed ACKs)

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                split = urlsplit(self.path)
                params = dict(parse_qsl(body if self.command == "POST" else split.query, keep_blank_values=True))
                with app.lock:
                    app.requests.append(
                        Request(
                            self.command,
                            split.path,
                            app.base + self.path,
                            params,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                route = app.routes.get(split.path)
                answer = route(params) if route else 404
                if isinstance(answer, tuple):
                    self.send_response(answer[0])
                    self.send_header("location", answer[1])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if isinstance(answer, int):
                    self.send_response(answer)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                data = answer if isinstance(answer, bytes) else answer.encode()
                self.send_response(200)
                self.send_header("content-type", "audio/wav" if isinstance(answer, bytes) else "application/xml")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]

    def wait_for(self, path: str, leg_sid: str | None = None, count: int = 1, seconds: float = 30) -> Request:
        """The first request to `path` (about `leg_sid`, when given) once `count` of them arrived."""
        return self.wait_all(path, leg_sid, count, seconds)[0]

    def wait_all(self, path: str, leg_sid: str | None = None, count: int = 1, seconds: float = 30) -> list[Request]:
        """The requests to `path` (about `leg_sid`, when given) once there are `count` (callbacks come in the
        background)."""

        def found() -> list[Request]:
            with self.lock:
                return [r for r in self.requests
                        if r.path == path and (leg_sid is None or r.params.get("CallSid") == leg_sid)]

        return wait_for(found, lambda requests: len(requests) >= count, seconds=seconds,
                        what=lambda: f"{count} requests to {path} (got {self.paths()})")

    def check_signed(self, secret: str) -> None:
        """Every request carries a signature Twilio's own RequestValidator accepts, and Standard Webhooks headers
        that verify with the same secret."""
        validator = RequestValidator(secret)
        with self.lock:
            requests = list(self.requests)
        assert requests
        for r in requests:
            params = r.params if r.method == "POST" else {}
            assert validator.validate(r.url, params, r.headers["x-twilio-signature"]), (r.method, r.url)
            stamp = datetime.fromtimestamp(int(r.headers["webhook-timestamp"]), UTC)
            # verify() also parses the body as JSON; a form body is checked by signing it again
            assert Webhook(secret).sign(r.headers["webhook-id"], stamp, r.body) == r.headers["webhook-signature"]


EXOPHONE = "08030752400"


def document(build: Callable[[VoiceResponse], object]) -> str:
    """A TwiML document: `build` adds verbs to a Twilio VoiceResponse."""
    response = VoiceResponse()
    build(response)
    return str(response)


def create_leg(api: Api, contact: str, **fields: Any) -> str:
    """A leg from EXOPHONE to `contact` (202 asserted): its sid."""
    response = api.http.post(api.base + "/legs", json={"contact_uri": contact, "exophone": EXOPHONE, **fields})
    assert response.status_code == 202, response.text
    return response.json()["response"]["data"]["leg_sid"]
