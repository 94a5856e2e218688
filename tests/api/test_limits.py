"""The API's edge under misuse (issue 10, item 4): bodies are bounded (413), credentials are checked before a
body is read, and a connection that never finishes its headers is closed."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.legato_server import Api, LegatoServer


def _raw(server: LegatoServer, head: str, *, wait: float = 20) -> bytes:
    """Send `head` (request line and headers, no body) and return all the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(head.encode())
        received = b""
        while b"\r\n\r\n" not in received or b"}" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _post_head(api: Api, length: int, auth: tuple[str, str]) -> str:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return (f"POST {api.base}/legs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n")


def test_a_body_announced_too_large_is_413_before_it_is_sent(api: Api) -> None:
    answer = _raw(api.server, _post_head(api, 300_000_000, ("key_nobody", "tok_nothing")))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"body_too_large"' in answer
    assert b"connection: close" in answer.lower()


def test_wrong_credentials_are_refused_before_the_body_is_read(api: Api) -> None:
    answer = _raw(api.server, _post_head(api, 50_000, ("key_nobody", "tok_nothing")))  # the body never comes
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"custom_param": "'
        for _ in range(64):  # 2 MiB, streamed without a Content-Length
            yield b"x" * 32768
        yield b'"}'

    response = api.http.post(api.base + "/legs", content=chunks())
    assert response.status_code == 413, response.text
    assert response.json()["response"]["error_data"]["code"] == "body_too_large"
    assert api.http.get(api.base + "/legs").status_code == 200


def test_a_body_under_the_limit_is_read(api: Api) -> None:
    response = api.http.post(api.base + "/legs", json={"contact_uri": "09163816621", "exophone": "08030752400",
                                                       "leg_event_endpoint": "http://127.0.0.1:9/e",
                                                       "custom_param": "x" * 4000})
    assert response.status_code == 202, response.text
    api.action(response.json()["response"]["data"]["leg_sid"], action="hangup")


@pytest.fixture
def strict_server(make_server: object) -> LegatoServer:
    return make_server(args=["--max-body-bytes", "2048", "--header-timeout", "1"]).start()  # type: ignore[operator]


def test_the_limit_is_configurable(strict_server: LegatoServer) -> None:
    account = strict_server.create_account("--exophone", "08030752400")
    api = Api(strict_server, account)
    response = api.create_leg("09163816621", custom_param="x" * 3000)
    assert response.status_code == 413, response.text
    assert "2048" in response.json()["response"]["error_data"]["message"]


@pytest.mark.parametrize("head", ["", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow:"])
def test_a_connection_that_never_finishes_its_headers_is_closed(strict_server: LegatoServer, head: str) -> None:
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=20) as sock:
        sock.sendall(head.encode())
        assert sock.recv(1024) == b""  # closed by the server (a timeout here would raise instead)


def test_a_kept_alive_connection_must_send_its_next_headers_in_time(strict_server: LegatoServer) -> None:
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=20) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while not first.endswith(b"}}}"):  # the whole envelope, whatever the segments
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert sock.recv(1024) == b""


def test_a_well_behaved_keep_alive_client_is_served(strict_server: LegatoServer) -> None:
    with httpx.Client(base_url=strict_server.url) as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
