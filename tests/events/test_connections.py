"""The webhook connection pool against real TCP servers on 127.0.0.1 that answer as each test scripts."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from legato.events.connections import BODY_READ_LIMIT, ConnectionPool, ExchangeFailed
from legato.events.endpoints import EndpointPolicy, EndpointRefused, IPAddress
from tests.legato_server import free_port

REQUEST = b"POST /events HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 2\r\n\r\n{}"
OK = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
Script = Callable[[int, int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""(connection number, request number on it, reader, writer) -> keep the connection open."""


class Server:
    """A TCP server reading whole requests (head + content-length body) and answering as `script` says."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.requests = 0
        self.open = 0
        self.most_open = 0
        self.server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, self.open = self.connections, self.open + 1
        self.most_open = max(self.most_open, self.open)
        try:
            for request in range(1_000_000):
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                if not await self.script(number, request, reader, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[Server]]]:
    servers: list[Server] = []

    async def start(script: Script) -> Server:
        server = Server(script)
        server.server = await asyncio.start_server(server._handle, "127.0.0.1", 0)
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.server is not None
        server.server.close()


def pool(limit: int = 64) -> ConnectionPool:
    return ConnectionPool(EndpointPolicy(allow_loopback=True), limit)


async def answer(data: bytes, writer: asyncio.StreamWriter) -> None:
    writer.write(data)
    await writer.drain()


async def test_connections_are_kept_alive_and_reused(serve: Callable[[Script], Awaitable[Server]]) -> None:
    async def ok(connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await answer(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", writer)
        return True

    server = await serve(ok)
    connections = pool()
    answers = [await connections.exchange("http", "127.0.0.1", server.port, REQUEST) for _ in range(5)]
    await connections.aclose()
    assert [(a.status_code, a.body_bytes) for a in answers] == [(200, 2)] * 5
    assert (server.connections, server.requests) == (1, 5)


async def test_a_kept_alive_connection_the_peer_dropped_is_replaced(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    # The first connection answers its first request, then drops the second unanswered (a server closing
    # an idle connection as the request goes out): the request goes again on a new connection.
    async def drop_second(
        connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        if connection == 1 and request == 1:
            return False
        await answer(OK, writer)
        return True

    server = await serve(drop_second)
    connections = pool()
    first = await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    second = await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    await connections.aclose()
    assert (first.status_code, second.status_code) == (204, 204)
    assert (server.connections, server.requests) == (2, 3)


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (b"HTTP/1.1 200 OK\r\ncontent-len", "read"),  # closed in the middle of the head
        (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort", "read"),  # closed before the body's end
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "protocol"),  # not HTTP at all
        (b"HTTP/1.1 200 OK\r\nx-pad: " + b"a" * 100_000, "protocol"),  # a head that never ends
    ],
)
async def test_answers_that_are_not_complete_http_fail(
    serve: Callable[[Script], Awaitable[Server]], reply: bytes, kind: str
) -> None:
    async def broken(connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await answer(reply, writer)
        return False

    server = await serve(broken)
    connections = pool()
    with pytest.raises(ExchangeFailed) as failed:
        await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    await connections.aclose()
    assert failed.value.kind == kind
    assert server.requests == 1  # a fresh connection that broke is not tried again


async def test_a_body_ended_by_closing_and_interim_answers(serve: Callable[[Script], Awaitable[Server]]) -> None:
    async def old_style(
        connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        await answer(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 Service Unavailable\r\nretry-after: 7\r\n\r\n" + b"x" * 1000,
            writer,
        )
        return False

    server = await serve(old_style)
    connections = pool()
    result = await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    await connections.aclose()
    assert (result.status_code, result.retry_after, result.body_bytes, result.body_over_limit) == (
        503,
        "7",
        1000,
        False,
    )


async def test_a_long_body_is_measured_up_to_the_limit_and_the_connection_closed(
    serve: Callable[[Script], Awaitable[Server]],
) -> None:
    size = BODY_READ_LIMIT * 4

    async def long_body(
        connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        await answer(b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\n\r\n" % size + b"s" * size, writer)
        return True

    server = await serve(long_body)
    connections = pool()
    first = await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    second = await connections.exchange("http", "127.0.0.1", server.port, REQUEST)
    await connections.aclose()
    assert (first.status_code, first.body_over_limit) == (500, True)
    assert second.body_over_limit and server.connections == 2  # the first connection was not reused


async def test_at_most_limit_connections_per_host(serve: Callable[[Script], Awaitable[Server]]) -> None:
    both_busy = asyncio.Event()
    busy: set[int] = set()

    async def held(connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        busy.add(connection)  # the first answer waits until two connections carry a request: the pool's limit
        if len(busy) >= 2:
            both_busy.set()
        await both_busy.wait()
        await answer(OK, writer)
        return True

    server = await serve(held)
    connections = pool(limit=2)
    exchanges = (connections.exchange("http", "127.0.0.1", server.port, REQUEST) for _ in range(8))
    answers = await asyncio.wait_for(asyncio.gather(*exchanges), 10)
    await connections.aclose()
    assert [a.status_code for a in answers] == [204] * 8
    assert (server.most_open, server.connections, server.requests) == (2, 2, 8)


async def test_nothing_listening_and_refused_addresses() -> None:
    connections = pool()
    with pytest.raises(ExchangeFailed) as failed:
        await connections.exchange("http", "127.0.0.1", free_port(), REQUEST)
    assert failed.value.kind == "connect"
    strict = ConnectionPool(EndpointPolicy(allow_loopback=False))
    with pytest.raises(EndpointRefused):
        await strict.exchange("http", "127.0.0.1", free_port(), REQUEST)
    await connections.aclose()


def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and hooks.example.test, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "legato test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("hooks.example.test")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


async def test_https_checks_the_certificate_against_the_url_host(tmp_path: Path) -> None:
    cert_file, key_file = certificate(tmp_path)
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert_file, key_file)
    names: list[str | None] = []
    served.sni_callback = lambda sock, name, context: names.append(name)  # type: ignore[assignment,func-returns-value]

    async def ok(connection: int, request: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        await answer(OK, writer)
        return True

    server = Server(ok)
    server.server = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=served)
    try:
        trusting = ConnectionPool(EndpointPolicy(allow_loopback=True))
        trusting.tls = ssl.create_default_context(cafile=str(cert_file))
        resolving = EndpointPolicy(allow_loopback=True, resolver=lambda host: _loopback())
        by_name = ConnectionPool(resolving)
        by_name.tls = trusting.tls
        untrusting = ConnectionPool(EndpointPolicy(allow_loopback=True))  # the system's CAs only
        first = await trusting.exchange("https", "127.0.0.1", server.port, REQUEST)
        second = await by_name.exchange("https", "hooks.example.test", server.port, REQUEST)
        with pytest.raises(ExchangeFailed) as refused:
            await untrusting.exchange("https", "127.0.0.1", server.port, REQUEST)
        wrong = ConnectionPool(resolving)
        wrong.tls = trusting.tls
        with pytest.raises(ExchangeFailed) as misnamed:  # the certificate does not name this host
            await wrong.exchange("https", "other.example.test", server.port, REQUEST)
        for pool in (trusting, by_name, untrusting, wrong):
            await pool.aclose()
    finally:
        server.server.close()
    assert (first.status_code, second.status_code) == (204, 204)
    assert (refused.value.kind, misnamed.value.kind) == ("connect", "connect")
    assert "hooks.example.test" in names  # the TLS server name is the URL's host, not the address
    assert server.requests == 2


async def _loopback() -> list[IPAddress]:
    return [ipaddress.ip_address("127.0.0.1")]
