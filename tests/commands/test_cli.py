"""The `legato` command as a user runs it: a subprocess against a real server, over HTTP with a saved profile
(login, accounts, token rotation, leg actions, events, rates, --output json), and clean errors (a message and
an exit code, never a traceback) for bad input, unknown profiles, a server that is down or is not Legato."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.legato_server import Api, LegatoServer, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    workdir = tmp_path_factory.mktemp("cli")
    server = LegatoServer(workdir=workdir, database_url=f"sqlite+aiosqlite:///{workdir / 'legato.db'}").start()
    yield server
    server.stop()


def legato(server: LegatoServer, *args: str) -> subprocess.CompletedProcess[str]:
    """`legato ARGS` with the test's config folder; the local database is not the server's, so a command that
    worked on the database instead of over HTTP would not be seen by the server."""
    env = server._env()
    env["LEGATO_DATABASE_URL"] = f"sqlite+aiosqlite:///{server.workdir / 'not-the-servers.db'}"
    env["LEGATO_SECRET_KEY_FILE"] = str(server.workdir / "not-the-servers.key")
    result = subprocess.run(
        [sys.executable, "-m", "legato", *args], cwd=server.workdir, env=env, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def ok(server: LegatoServer, *args: str) -> Any:
    """Run with `--output json` and return the parsed JSON."""
    result = legato(server, *args, "--output", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_version(server: LegatoServer) -> None:
    result = legato(server, "--version")
    assert result.returncode == 0 and result.stdout.startswith("legato ")


def test_an_operator_and_an_account_work_over_http_with_profiles(server: LegatoServer) -> None:
    login = legato(server, "login", server.url, "--admin-token", server.admin_token())
    assert login.returncode == 0, login.stderr
    profiles = server.workdir / "config" / "legato" / "profiles.json"
    assert stat.S_IMODE(profiles.stat().st_mode) == 0o600

    created = ok(server, "accounts", "create", "--sid", "cli1", "--exophone", "08030752400", "--cps", "4")
    assert created["account_sid"] == "cli1" and created["cps"] == 4
    changed = ok(server, "accounts", "update", "cli1", "--cps", "none", "--max-concurrent", "5")
    assert (changed["cps"], changed["max_concurrent"]) == (None, 5)
    rotated = ok(server, "accounts", "rotate-token", "cli1")
    assert rotated["api_token"] != created["api_token"]
    account = legato(
        server,
        "login",
        server.url,
        "--profile",
        "acme",
        "--account",
        "cli1",
        "--api-key",
        rotated["api_key"],
        "--api-token",
        rotated["api_token"],
    )
    assert account.returncode == 0, account.stderr

    leg = ok(
        server,
        "legs",
        "create",
        "09163816621",
        "--exophone",
        "08030752400",
        "--endpoint",
        "http://127.0.0.1:9/events",
        "--profile",
        "acme",
    )
    sid = leg["leg_sid"]
    table = legato(server, "legs", "list", "--profile", "acme").stdout
    assert sid in table  # full sids, whatever the terminal width
    assert ok(server, "legs", "hangup", sid, "--profile", "acme")["leg_sid"] == sid
    events = ok(server, "events", "list", sid, "--profile", "acme")
    assert events and events[0]["sequence"] == 1
    refused = legato(
        server,
        "legs",
        "create",
        "09163816621",
        "--exophone",
        "08030752499",
        "--endpoint",
        "http://127.0.0.1:9/events",
        "--profile",
        "acme",
    )
    assert refused.returncode == 1 and "400" in refused.stderr and "field: exophone" in refused.stderr

    sample = ROOT / "docs" / "rates-sample.csv"
    assert legato(server, "rates", "import", str(sample)).returncode == 0  # over HTTP: the export below sees it
    assert legato(server, "rates", "export").stdout == sample.read_text()


def test_bridges_calls_and_the_call_log(server: LegatoServer) -> None:
    account = server.create_account()
    api = Api(server, account)
    sids = [api.create_leg(number).json()["response"]["data"]["leg_sid"] for number in ("09163816621", "09163816622")]
    assert all(api.wait_state(sid, "connected")["state"] == "connected" for sid in sids)
    who = (
        "--url",
        server.url,
        "--account",
        account.account_sid,
        "--api-key",
        account.api_key,
        "--api-token",
        account.api_token,
    )
    bridge = ok(server, "bridges", "create", *sids, *who)
    assert bridge["leg_sids"] == sids
    assert ok(server, "bridges", "stop", bridge["bridge_sid"], *who)["bridge_sid"] == bridge["bridge_sid"]
    call = ok(server, "calls", "show", bridge["call_sid"], *who)
    assert {leg["leg_sid"] for leg in call["legs"]} == set(sids)
    log = legato(server, "calls", "log", *who)
    assert log.returncode == 0 and bridge["call_sid"] in log.stdout


def test_user_errors_are_a_message_and_an_exit_code(server: LegatoServer) -> None:
    credentials = ("--account", "a", "--api-key", "k", "--api-token", "t")
    with _not_legato() as url, ThreadPoolExecutor(4) as pool:
        runs = {
            "down": pool.submit(
                legato, server, "legs", "list", "--url", f"http://127.0.0.1:{free_port()}", *credentials
            ),
            "other": pool.submit(legato, server, "legs", "list", "--url", url, *credentials),
            "profile": pool.submit(legato, server, "legs", "list", "--profile", "nobody"),
            "output": pool.submit(legato, server, "legs", "list", "--output", "yaml", *credentials),
            "limit": pool.submit(legato, server, "accounts", "update", "cli9", "--cps", "fast"),
        }
        result = {name: run.result() for name, run in runs.items()}
    assert result["down"].returncode == 3 and "cannot reach" in result["down"].stderr
    assert result["other"].returncode == 3 and "did not answer as a Legato server" in result["other"].stderr
    assert result["profile"].returncode == 2 and "no profile 'nobody'" in result["profile"].stderr
    assert result["output"].returncode == 2 and "--output must be json or table" in result["output"].stderr
    assert result["limit"].returncode == 2 and "--cps must be a whole number or 'none'" in result["limit"].stderr


class _Html(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>not legato</html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class _not_legato:
    """A web server that is not Legato, at a URL."""

    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Html)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
