"""The key that encrypts webhook secrets: beside the database, the same from any folder, never replaced by a
second one; a missing or wrong key stops `legato serve` and the CLI with what to do (real processes)."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.events.receivers import HttpReceiver, verify
from tests.legato_server import POSTGRES_URL, Api, LegatoServer, new_postgres_database

NO_KEY_FILE = {"LEGATO_SECRET_KEY_FILE": ""}  # "": the variable is unset, as for an operator who never set it


def in_folder(folder: Path, database_url: str, **env: str) -> LegatoServer:
    """A server (and CLI) run from `folder`, with the key where Legato puts it by default."""
    folder.mkdir(parents=True, exist_ok=True)
    return LegatoServer(workdir=folder, database_url=database_url, env={**NO_KEY_FILE, **env})


def refused_start(server: LegatoServer) -> str:
    """Run `legato serve` expecting it to refuse to start: its exit status is 2; returns what it printed."""
    result = subprocess.run([sys.executable, "-m", "legato", "serve", "--port", str(server.port)], cwd=server.workdir,
                            env=server._env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stderr


def test_cli_from_any_folder_uses_one_database_and_one_key(tmp_path: Path) -> None:
    data = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    one, two = in_folder(tmp_path / "one", "", **data), in_folder(tmp_path / "two", "", **data)
    account = one.create_account("--sid", "acme")
    assert '"acme"' in two.cli("accounts", "list", "--json")  # the same database from another folder
    key = tmp_path / "xdg" / "legato" / "legato.key"
    assert (tmp_path / "xdg" / "legato" / "legato.db").exists()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700  # the folder Legato made: the database's numbers too
    assert not list((tmp_path / "one").glob("legato.*")) and not list((tmp_path / "two").glob("legato.*"))
    assert account.webhook_secret.startswith("whsec_")


def test_events_are_signed_for_an_account_created_from_another_folder(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'legato.db'}"
    account = in_folder(tmp_path / "admin", database).create_account("--sid", "acme")
    assert (tmp_path / "data" / "legato.key").exists()  # beside the database, not in the admin's folder
    server = in_folder(tmp_path / "service", database).start()
    receiver = HttpReceiver()
    try:
        api = Api(server, account)
        leg = api.create_leg("09163810001", leg_event_endpoint=receiver.url)
        assert leg.status_code == 202, leg.text
        events = receiver.wait_terminated(leg.json()["response"]["data"]["leg_sid"])
        assert events[-1]["event_name"] == "leg_terminated"
        for received in receiver.accepted():
            verify(account.webhook_secret, received)  # signed with the secret the admin was given
    finally:
        receiver.close()
        server.stop()


def test_missing_or_wrong_key_stops_the_server_and_the_cli(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}"
    admin = in_folder(tmp_path, database)
    admin.create_account("--sid", "acme")
    key = tmp_path / "legato.key"
    original = key.read_bytes()
    key.unlink()
    refused = refused_start(admin)
    assert str(key) in refused and "LEGATO_SECRET_KEY_FILE" in refused
    assert not key.exists()  # no second key was made
    with pytest.raises(RuntimeError, match="is missing"):
        admin.cli("accounts", "list")
    key.write_bytes(Fernet.generate_key() + b"\n")
    assert "not the key this database" in refused_start(admin)
    with pytest.raises(RuntimeError, match="not the key this database"):
        admin.create_account("--sid", "second")  # no account is ever sealed with another key
    key.write_bytes(original)
    admin.start()
    admin.stop()


def test_database_from_before_fingerprints_is_checked_against_a_stored_secret(tmp_path: Path) -> None:
    database = tmp_path / "legato.db"
    admin = in_folder(tmp_path, f"sqlite+aiosqlite:///{database}")
    admin.create_account("--sid", "acme")
    with sqlite3.connect(database) as db:  # as a database made before the key's fingerprint was kept
        db.execute("DELETE FROM secret_keys")
    key = tmp_path / "legato.key"
    original = key.read_bytes()
    key.write_bytes(Fernet.generate_key())
    with pytest.raises(RuntimeError, match="not the key this database"):
        admin.cli("accounts", "list")
    key.write_bytes(original)
    assert '"acme"' in admin.cli("accounts", "list", "--json")
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM secret_keys").fetchone() == (1,)  # remembered from now on


def test_configured_key_file_still_wins(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'db' / 'legato.db'}"
    server = LegatoServer(workdir=tmp_path, database_url=database)  # sets LEGATO_SECRET_KEY_FILE
    server.create_account("--sid", "acme")
    assert (tmp_path / "legato.key").exists() and not (tmp_path / "db" / "legato.key").exists()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LEGATO_TEST_POSTGRES_URL is not set")
def test_postgres_nodes_share_a_key_given_in_the_environment(tmp_path: Path) -> None:
    database = new_postgres_database()
    shared = Fernet.generate_key().decode()
    with pytest.raises(RuntimeError, match="LEGATO_SECRET_KEY"):  # nothing to guess a path from
        in_folder(tmp_path / "a", database).create_account("--sid", "acme")
    node_a = in_folder(tmp_path / "a", database, LEGATO_SECRET_KEY=shared)
    account = node_a.create_account("--sid", "acme")
    node_b = in_folder(tmp_path / "b", database, LEGATO_SECRET_KEY=shared).start()
    receiver = HttpReceiver()
    try:
        leg = Api(node_b, account).create_leg("09163810001", leg_event_endpoint=receiver.url)
        assert leg.status_code == 202, leg.text
        receiver.wait_terminated(leg.json()["response"]["data"]["leg_sid"])
        verify(account.webhook_secret, receiver.accepted()[0])
    finally:
        receiver.close()
        node_b.stop()
    stranger = in_folder(tmp_path / "c", database, LEGATO_SECRET_KEY=Fernet.generate_key().decode())
    assert "not the key this database" in refused_start(stranger)
