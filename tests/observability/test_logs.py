"""Logs: every line a server writes parses in the chosen format (`json` or logfmt `text`), and the lines
an operator needs are there with their fields."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
from typing import Any

import pytest

from legato.config import Settings
from legato.observability.logs import configure_logging, log_start
from tests.legato_server import Api, LegatoServer

PAIR = re.compile(r'([^\s="]+)(?:=(?:"((?:[^"\\]|\\.)*)"|([^\s"=]*)))?(?:[ ]+|$)')


def logfmt(line: str) -> dict[str, Any]:
    """Parse one logfmt line strictly: every character must belong to a key or key=value pair."""
    fields: dict[str, Any] = {}
    position = 0
    while position < len(line):
        match = PAIR.match(line, position)
        assert match and match.end() > position, f"not logfmt at {position}: {line!r}"
        key, quoted, bare = match.groups()
        fields[key] = (quoted.encode().decode("unicode_escape") if quoted is not None
                       else bare if bare is not None else True)
        position = match.end()
    return fields


PARSERS = {"json": json.loads, "text": logfmt}


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_every_line_of_a_server_parses_and_says_what_happened(make_server, log_format: str) -> None:
    server: LegatoServer = make_server(env={"LEGATO_LOG_FORMAT": log_format})
    account = server.create_account("--sid", "acme", "--exophone", "08030752400")
    server.start()
    api = Api(server, account)
    busy = api.create_leg("09163810001", custom_param='say "hi"\nthen go')  # quotes and a newline
    assert busy.status_code == 202
    leg_sid = busy.json()["response"]["data"]["leg_sid"]
    assert api.create_leg("09163810001", exophone=None).status_code == 400
    assert api.wait_terminal(leg_sid)["state"] == "terminal"
    while len(api.events(leg_sid)[0]["attempts"]) < 1:  # the dead endpoint refused at least once
        pass
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(60)
    server.process = None

    text = (server.workdir / f"server-{server.port}.log").read_text()
    lines = [PARSERS[log_format](line) for line in text.splitlines() if line.strip()]
    assert all(isinstance(line, dict) and {"ts", "level", "logger", "event"} <= set(line) for line in lines)
    started = next(line for line in lines if line["event"] == "legato started")
    assert {"version", "node", "listen", "database", "network"} <= set(started)
    assert started["listen"] == server.url and started["network"] == "sandbox"
    access = [line for line in lines if line["logger"] == "legato.access"]
    assert {(a["method"], a["operation"], str(a["status"])) for a in access} >= {
        ("POST", "createLeg", "202"), ("POST", "createLeg", "400")}
    assert all(a["account_sid"] == "acme" for a in access if a["operation"] == "createLeg")
    changes = [line for line in lines if line["event"] == "leg event" and line["leg_sid"] == leg_sid]
    assert [c["event_name"] for c in changes] == ["leg_connecting", "leg_terminated"]
    assert all(c["account_sid"] == "acme" for c in changes)
    assert changes[-1]["hangup_cause"] == "user_busy"
    failures = [line for line in lines if line["event"] == "event delivery failed" and line["leg_sid"] == leg_sid]
    assert failures and all(f["account_sid"] == "acme" and f["level"] == "warning" for f in failures)
    assert any(line["event"] == "drain finished" for line in lines)


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_tracebacks_and_secrets(log_format: str) -> None:
    stream = io.StringIO()
    configure_logging(log_format, stream=stream)
    log_start(Settings(database_url="postgresql+asyncpg://legato:s3cret@db.internal/legato"))
    try:
        raise ValueError('a "quoted"\nmessage')
    except ValueError:
        logging.getLogger("legato.test").exception("it failed leg_sid=%s", "L1")
    lines = [PARSERS[log_format](line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2  # the traceback stays inside its line
    assert "s3cret" not in stream.getvalue()
    assert lines[0]["database"] == "postgresql+asyncpg://legato:***@db.internal/legato"
    assert lines[1]["level"] == "error" and lines[1]["event"] == "it failed leg_sid=L1"
    assert "Traceback" in lines[1]["exception"] and 'ValueError: a "quoted"\nmessage' in lines[1]["exception"]
