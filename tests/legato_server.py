"""Running a real Legato server process for end-to-end tests, and a small HTTP client for it."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_for

POSTGRES_URL = os.environ.get("LEGATO_TEST_POSTGRES_URL")
CREATED_DATABASES: list[str] = []
SRC = str(Path(__file__).resolve().parent.parent / "src")  # this checkout's code, whatever is installed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def new_postgres_database() -> str:
    """A fresh, empty PostgreSQL database for one test (LEGATO_TEST_POSTGRES_URL names the server)."""
    import asyncpg

    assert POSTGRES_URL
    name = "legato_" + uuid.uuid4().hex[:12]
    plain = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def create() -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    _on_postgres(create())
    CREATED_DATABASES.append(name)
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def drop_postgres_databases() -> None:
    """Drop every database `new_postgres_database` made (servers using them must be stopped)."""
    import asyncpg

    if not POSTGRES_URL or not CREATED_DATABASES:
        return
    plain = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def drop() -> None:
        conn = await asyncpg.connect(plain)
        try:
            while CREATED_DATABASES:
                await conn.execute(f'DROP DATABASE IF EXISTS "{CREATED_DATABASES.pop()}" WITH (FORCE)')
        finally:
            await conn.close()

    _on_postgres(drop())


def _on_postgres(work: Any) -> None:
    import asyncio

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # callable from inside a running loop too
        pool.submit(asyncio.run, work).result()


@dataclass
class Account:
    account_sid: str
    api_key: str
    api_token: str
    webhook_secret: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.api_key, self.api_token)


@dataclass
class LegatoServer:
    """`legato serve` in a child process, on a free port, with its own database and key file."""

    workdir: Path
    database_url: str
    time_scale: float = 50.0
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([SRC, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        # Stopping a test server ends its live legs at once (no drain wait, no outbox flush to dead endpoints);
        # the drain tests set their own.
        env.update({"LEGATO_DRAIN_TIMEOUT": "0", "LEGATO_DRAIN_FLUSH_TIMEOUT": "0"})
        env["XDG_CONFIG_HOME"] = str(self.workdir / "config")  # `legato login` profiles stay in the test's folder
        env.update({"LEGATO_DATABASE_URL": self.database_url,
                    "LEGATO_SECRET_KEY_FILE": str(self.workdir / "legato.key"),
                    "LEGATO_TIME_SCALE": str(self.time_scale)})
        env.update(self.env)
        return {name: value for name, value in env.items() if value != ""}  # "" in `env` unsets a variable

    def start(self) -> LegatoServer:
        log = open(self.workdir / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "legato", "serve", "--port", str(self.port), *self.args],
            cwd=self.workdir, env=self._env(), stdout=log, stderr=subprocess.STDOUT)
        # imports alone take 10-20 s on a loaded 2-core machine
        wait_for(self._healthy, seconds=90, what="the server's start", every=0.1)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError("server exited: " + self.log_path.read_text())
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.port}.log"

    def admin_token(self) -> str:
        """The admin token the first start printed (once) in this server's log."""
        found = re.findall(r"admin_token=(\S+)", self.log_path.read_text())
        assert found, "no admin token in the server's log"
        return found[-1]

    def cli(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "-m", "legato", *args], cwd=self.workdir, env=self._env(),
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"legato {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def create_account(self, *args: str, exophone: str | None = "08030752400") -> Account:
        """A new account; it owns `exophone` (the caller id `Api.create_leg` uses) unless args name exophones."""
        if exophone is not None and "--exophone" not in args:
            args = (*args, "--exophone", exophone)
        data = json.loads(self.cli("accounts", "create", "--json", *args))
        return Account(data["account_sid"], data["api_key"], data["api_token"], data["webhook_secret"])


class Api:
    """A thin client that knows the envelope."""

    def __init__(self, server: LegatoServer, account: Account) -> None:
        self.server = server
        self.account = account
        self.http = httpx.Client(base_url=server.url, auth=account.auth, timeout=10)

    @property
    def base(self) -> str:
        return f"/v2/accounts/{self.account.account_sid}"

    def create_leg(self, contact_uri: str, **fields: Any) -> httpx.Response:
        body = {"contact_uri": contact_uri, "exophone": "08030752400",
                "leg_event_endpoint": "http://127.0.0.1:9/events", **fields}
        return self.http.post(self.base + "/legs", json=body)

    def leg(self, leg_sid: str) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/legs/{leg_sid}")
        assert response.status_code == 200, response.text
        return response.json()["response"]["data"]

    def events(self, leg_sid: str) -> list[dict[str, Any]]:
        response = self.http.get(f"{self.base}/legs/{leg_sid}/external-events")
        assert response.status_code == 200, response.text
        return response.json()["response"]["data"]["events"]

    def inbound_legs(self) -> list[dict[str, Any]]:
        """The account's inbound legs, newest first."""
        return self.http.get(self.base + "/legs", params={"direction": "inbound"}).json()["response"]["data"]["legs"]

    def wait_event(self, leg_sid: str, name: str, count: int = 1, seconds: float = 20) -> list[dict[str, Any]]:
        """The leg's stored events once `count` of them are `name` (AssertionError after `seconds`)."""
        return wait_for(lambda: self.events(leg_sid), lambda events: [e["event_name"] for e in events].count(name)
                        >= count, seconds=seconds, what=f"{count} {name} on {leg_sid}")

    def action(self, leg_sid: str, **body: Any) -> httpx.Response:
        return self.http.post(f"{self.base}/legs/{leg_sid}/actions", json=body)

    def wait_terminal(self, leg_sid: str, seconds: float = 20) -> dict[str, Any]:
        return self.wait_state(leg_sid, "terminal", seconds)

    def wait_state(self, leg_sid: str, state: str, seconds: float = 20) -> dict[str, Any]:
        return wait_for(lambda: self.leg(leg_sid), lambda leg: leg["state"] == state, seconds=seconds, what=None)
