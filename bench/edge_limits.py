"""The API's edge under misuse: memory after huge POSTs, and how long half-open connections stay.

    PYTHONPATH=src python bench/edge_limits.py [--megabytes 300] [--connections 1500] [--header-timeout 10]

Starts `legato serve` (SQLite, sandbox) in a temporary folder, then:
1. sends an unauthenticated and an authenticated chunked POST of N MB to /v2/accounts/{sid}/legs and reports
   the server's RSS before and after (and the status codes: 401 and 413 expected);
2. opens C connections that send half a request line and stop, and counts how many the server still
   holds open after header_timeout + 2 s.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.legato_server import LegatoServer


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def chunks(megabytes: int) -> Iterator[bytes]:
    block = b"x" * (1 << 20)
    yield b'{"custom_param": "'
    for _ in range(megabytes):
        yield block
    yield b'"}'


def huge_post(url: str, auth: tuple[str, str], megabytes: int) -> int:
    try:
        return httpx.post(url, content=chunks(megabytes), auth=auth, timeout=120).status_code
    except httpx.HTTPError as exc:  # the server may close while we are still sending
        return getattr(getattr(exc, "response", None), "status_code", 0) or -1


def half_open(port: int, count: int, header_timeout: float) -> tuple[int, float]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /healthz HTT")
        sock.setblocking(False)
        sockets.append(sock)
    started = time.monotonic()
    time.sleep(header_timeout + 2)
    still_open = 0
    for sock in sockets:
        try:
            still_open += sock.recv(1) != b""
        except BlockingIOError:
            still_open += 1
        except OSError:
            pass
        sock.close()
    return still_open, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--connections", type=int, default=1500)
    parser.add_argument("--header-timeout", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}",
                              args=["--header-timeout", str(args.header_timeout)]).start()
        try:
            account = server.create_account("--exophone", "08030752400")
            assert server.process is not None
            pid = server.process.pid
            url = f"{server.url}/v2/accounts/{account.account_sid}/legs"
            before = rss_kb(pid)
            anonymous = huge_post(url, ("key_nobody", "tok_nothing"), args.megabytes)
            after_anonymous = rss_kb(pid)
            authenticated = huge_post(url, account.auth, args.megabytes)
            after_authenticated = rss_kb(pid)
            print(f"RSS before: {before} kB")
            print(f"{args.megabytes} MB unauthenticated POST: status {anonymous}, RSS {after_anonymous} kB")
            print(f"{args.megabytes} MB authenticated POST: status {authenticated}, RSS {after_authenticated} kB")
            still, waited = half_open(server.port, args.connections, args.header_timeout)
            print(f"{args.connections} half-open connections: {still} still open after {waited:.1f} s")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
