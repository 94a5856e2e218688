"""Logs: every line a server writes parses in the chosen format (`json` or logfmt `text`), and the lines
an operator needs are there with their fields."""

from __future__ import annotations

import io
import json
import logging
import random
import re
import signal
import socket
from typing import Any

import pytest
import structlog

from legato.config import Settings
from legato.logformat import LineLogger, Logfmt
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
    assert (started["node"], started["host"]) == ("default", socket.gethostname())  # the node's name, not the host's
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


def test_logfmt_lines_are_structlogs_own() -> None:
    """Legato's logfmt renderer (keys checked once) writes what structlog's writes, for awkward values too (but
    control characters: see the next test)."""
    order = ["ts", "level", "logger", "event"]
    ours, theirs = Logfmt(key_order=order), structlog.processors.LogfmtRenderer(key_order=order)
    rng = random.Random(7)
    values = [None, True, False, 0, -3, 2**70, 1.5, float("nan"), float("-inf"), 1e-7, "", "plain", "two words",
              'a "quote"', "back\\slash", "back\\slash and space", "a=b", "line\nbreak", "\u00e9\u00e8",
              [1, "x y"], {"k": "v"}, ("t",), b"bytes", LineLogger, 3 + 4j]
    keys = ["ts", "level", "logger", "event", "status", "path", "x", "", "\u00e9t\u00e9", "a.b", "k-1"]
    for _ in range(3000):
        event = {key: rng.choice(values) for key in rng.sample(keys, rng.randint(0, len(keys)))}
        assert ours(None, "info", dict(event)) == theirs(None, "info", dict(event)), event
    for bad in ("two words", "tab\tkey", "new\nline", "two words"):  # refused each time, as structlog does
        errors = []
        for renderer in (ours, theirs):
            with pytest.raises(ValueError) as raised:
                renderer(None, "info", {bad: 1})
            errors.append(str(raised.value))
        assert errors[0] == errors[1]


def test_control_characters_in_a_value_stay_inside_one_parseable_line() -> None:
    """A tab, a CR or an escape in a value (a percent-decoded request path carries whatever it was sent) is
    escaped inside a quoted value: the line stays one line and reads back as it was."""
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    values = ["/v2/accounts/a\tb/legs", "/x\r\nforged=1", "esc\x1b[31m", "back\\slash\ttab", "sep\u2028ara\x85tor"]
    for value in values:
        LineLogger("legato.access").info("request", path=value)
        structlog.get_logger("legato.test").info("other", path=value)
    lines = stream.getvalue().split("\n")[:-1]
    assert len(lines) == 2 * len(values) and len(stream.getvalue().splitlines()) == len(lines)
    assert [logfmt(line)["path"] for line in lines] == [value for value in values for _ in (1, 2)]


def test_request_lines_reach_a_handler_added_later() -> None:
    """A handler added after the logging was set up (as pytest's caplog adds one) gets the lines written
    directly until then; once it is gone they are direct again, the same text either way."""
    stream = io.StringIO()
    configure_logging("text", stream=stream)
    seen: list[logging.LogRecord] = []
    extra = logging.Handler()
    extra.emit = seen.append  # type: ignore[method-assign]
    lines = LineLogger("legato.test.lines")
    lines.info("first", n=1)
    logging.getLogger().addHandler(extra)
    try:
        lines.info("second", n=2)
    finally:
        logging.getLogger().removeHandler(extra)
    lines.info("third", n=3)
    assert len(seen) == 1 and seen[0].name == "legato.test.lines"
    written = [logfmt(line) for line in stream.getvalue().splitlines()]
    assert [(w["event"], w["n"], w["logger"], w["level"]) for w in written] == [
        ("first", "1", "legato.test.lines", "info"), ("second", "2", "legato.test.lines", "info"),
        ("third", "3", "legato.test.lines", "info")]
