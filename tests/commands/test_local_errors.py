"""Errors found before any server is asked: `legato serve` with a bad setting stops before it starts (a setting
it cannot use is never ignored), and bad usage of any command; each is exit status 2 and one line on stderr
naming what is wrong, no traceback, no usage box."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.legato_server import SRC, free_port


def refused(tmp_path: Path, *args: str, command: tuple[str, ...] = (), **env: str) -> str:
    """Run `legato serve ARGS` (or `legato COMMAND`) expecting a refusal (a server that started instead is killed
    by the timeout)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LEGATO_")}
    environ.update(LEGATO_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=SRC, **env)
    argv = [sys.executable, "-m", "legato", *(command or ("serve", "--port", str(free_port()))), *args]
    try:
        result = subprocess.run(argv, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"legato serve {' '.join(args)} started instead of refusing")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, however long
    return result.stderr


def test_a_config_file_that_is_missing_or_not_toml_stops_the_start(tmp_path: Path) -> None:
    missing = refused(tmp_path, "--config", str(tmp_path / "nowhere.toml"))
    assert "config_file" in missing and "nowhere.toml" in missing
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = not [ toml\n")
    assert "not valid TOML" in refused(tmp_path, "--config", str(bad))
    assert "config_file" in refused(tmp_path, LEGATO_CONFIG_FILE=str(tmp_path / "nowhere.toml"))


def test_a_database_url_without_a_shipped_driver_names_the_setting(tmp_path: Path) -> None:
    stderr = refused(tmp_path, LEGATO_DATABASE_URL="mysql://user:secret@127.0.0.1/legato")
    assert "database_url" in stderr and "postgresql+asyncpg://" in stderr
    assert "secret" not in stderr  # the password is not repeated
    assert "database_url" in refused(tmp_path, "--database-url", "sqlite:///plain.db")


def test_a_command_on_the_database_names_a_bad_setting_without_its_value(tmp_path: Path) -> None:
    stderr = refused(tmp_path, command=("accounts", "list"), LEGATO_DATABASE_URL="mysql://user:secret@127.0.0.1/x")
    assert "database_url" in stderr and "secret" not in stderr
    assert "port" in refused(tmp_path, command=("accounts", "list"), LEGATO_PORT="eighty")


def test_a_variable_that_is_not_the_json_or_network_its_setting_needs_names_it(tmp_path: Path) -> None:
    stderr = refused(tmp_path, LEGATO_ALLOW_PRIVATE_ENDPOINTS="10.0.0.0/8")  # not a JSON list
    assert "LEGATO_ALLOW_PRIVATE_ENDPOINTS must be JSON" in stderr
    assert "LEGATO_DATA_CENTRES must be JSON" in refused(tmp_path, command=("accounts", "list"),
                                                         LEGATO_DATA_CENTRES="101=nso-a")
    stderr = refused(tmp_path, LEGATO_ALLOW_PRIVATE_ENDPOINTS='["10.0.0.0/8", "office"]')
    assert "allow_private_endpoints" in stderr and "'office' is not a network" in stderr


@pytest.mark.parametrize(("command", "words"), [
    (("accounts", "show"), "Missing argument 'account_sid'"),
    (("accounts", "create", "--cps", "ten"), "--cps"),
    (("bogus",), "No such command 'bogus'"),
    (("legs", "list", "--nope"), "No such option: --nope"),
])
def test_bad_usage_is_one_line(tmp_path: Path, command: tuple[str, ...], words: str) -> None:
    assert words in refused(tmp_path, command=command)
