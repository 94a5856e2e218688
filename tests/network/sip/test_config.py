"""The SIP config file: loading, and problems reported with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.network.sip.config import check_config_file, load_config

GOOD = """\
[server]
port = 8000

[sip]
listen_port = 5070
public_host = "203.0.113.7"
default_trunk = "carrier"

[[sip.trunks]]
name = "carrier"
proxy = "sip:sip.carrier.example:5060"
username = "legato"
password = "secret"
number_format = "national"

[[sip.exophones]]
number = "08047112233"
account_sid = "acct_demo"
trunk = "carrier"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "legato.toml"
    path.write_text(text)
    return path


def test_good_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert check_config_file(path) == []
    config = load_config(path)
    assert config.contact_host == "203.0.113.7" and config.contact_port == 5070
    assert config.exophone("+918047112233") is not None  # numbers are kept in E.164
    assert "secret" not in repr(config.trunks[0])


@pytest.mark.parametrize(("change", "line", "words"), [
    (('number_format = "national"', 'number_format = "local"'), 14, "'e164' or 'national'"),
    (('proxy = "sip:sip.carrier.example:5060"', 'proxy = "http://x"'), 11, "SIP URI"),
    (('default_trunk = "carrier"', 'default_trunk = "other"'), 7, "not a trunk"),
    (('"acct_demo"\ntrunk = "carrier"', '"acct_demo"\ntrunk = "nope"'), 19, "no trunk named"),
    (('number = "08047112233"', 'number = "12"'), 17, "phone number"),
    (('password = "secret"\n', ''), 9, "username and password"),
    (('listen_port = 5070', 'listen_port = 99999'), 5, "less than or equal"),
    (('listen_port = 5070', 'listen_prt = 5070'), 5, "Extra inputs"),
])
def test_problems_carry_their_line(tmp_path: Path, change: tuple[str, str], line: int, words: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    problems = check_config_file(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}: ") and words in problems[0], problems


def test_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("listen_port = 5070", "listen_port = = 5070"))
    problems = check_config_file(path)
    assert problems[0].startswith(f"{path}:5: TOML syntax")


def test_missing_section_and_file(tmp_path: Path) -> None:
    assert "no [sip] table" in check_config_file(write(tmp_path, "[server]\n"))[0]
    assert "cannot read" in check_config_file(tmp_path / "absent.toml")[0]
