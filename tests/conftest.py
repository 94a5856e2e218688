"""Shared fixtures: real Legato servers on SQLite (always) and PostgreSQL (when configured)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.legato_server import POSTGRES_URL, Api, LegatoServer, drop_postgres_databases, new_postgres_database

DATABASES = ["sqlite", pytest.param("postgres", marks=[
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")])]


def database_url(kind: str, workdir: Path) -> str:
    if kind == "postgres":
        return new_postgres_database()
    return f"sqlite+aiosqlite:///{workdir / 'legato.db'}"


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[object]:
    """Start servers on demand; every one is stopped at the end of the test."""
    started: list[LegatoServer] = []

    def make(kind: str = "sqlite", **kwargs: object) -> LegatoServer:
        """A server on a new database of `kind`, or on `database_url=` (another server's) when given."""
        url = kwargs.pop("database_url", None) or database_url(kind, tmp_path)
        server = LegatoServer(workdir=tmp_path, database_url=url, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module", params=DATABASES)
def shared_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LegatoServer]:
    """One sandbox server (time scale 50) shared by the API tests of a module; on SQLite, and on
    PostgreSQL too when LEGATO_TEST_POSTGRES_URL is set."""
    workdir = tmp_path_factory.mktemp("legato")
    server = LegatoServer(workdir=workdir, database_url=database_url(request.param, workdir)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(shared_server: LegatoServer) -> Api:
    account = shared_server.create_account("--exophone", "08030752400")
    return Api(shared_server, account)


@pytest.fixture(scope="session", autouse=True)
def _nothing_left_in_the_checkout() -> Iterator[None]:
    """Tests write into temporary folders: a run leaves no data folder of Legato's in the checkout."""
    root = Path(__file__).resolve().parent.parent
    names = ("recordings", "media-cache", "legato.db", "legato.key")
    before = {name for name in names if (root / name).exists()}
    yield
    left = [name for name in names if (root / name).exists() and name not in before]
    assert not left, f"the tests left {left} in {root}; write into tmp_path instead"


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    """Leave the PostgreSQL server as it was: drop the databases the tests made."""
    yield
    drop_postgres_databases()
