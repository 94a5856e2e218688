"""Structured logs through structlog: `json` (one JSON object per line) or `text` (logfmt).

Every record, whether from structlog or from a stdlib `logging` logger (Legato's modules, uvicorn,
SQLAlchemy), goes through one handler on the root logger and one renderer, so every line of a
server's output parses in the chosen format, tracebacks included (as an `exception` field).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any, TextIO
from urllib.parse import urlsplit

import structlog
from sqlalchemy.engine import make_url

from legato import __version__
from legato.config import Settings
from legato.events.sinks import Result
from legato.observability.metrics import event_fields

legs_log = structlog.get_logger("legato.legs")
events_log = structlog.get_logger("legato.events")

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]
QUIET = {"alembic": logging.WARNING, "httpx": logging.WARNING, "httpcore": logging.WARNING,
         "uvicorn": logging.WARNING, "uvicorn.access": logging.WARNING, "sqlalchemy": logging.WARNING}


def configure_logging(log_format: str, *, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every log record through structlog's renderer for `log_format` (`json` or `text`)."""
    renderer: Any = (structlog.processors.JSONRenderer() if log_format == "json"
                     else structlog.processors.LogfmtRenderer(key_order=["ts", "level", "logger", "event"]))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer])
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # Python warnings become records too, in the same format
    # No line shows a record's source file, thread or process: skip finding them for every record (the
    # logging HOWTO's "Optimization"; about a fifth of a line's cost).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_SHARED, structlog.processors.StackInfoRenderer(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def log_events(rows: list[dict[str, Any]]) -> None:
    """Writer listener: one line per durable event (each state change is one), with leg_sid and account_sid."""
    if not legs_log.isEnabledFor(logging.INFO):
        return
    for row in rows:
        data = event_fields(row)
        fields = {k: data[k] for k in ("state", "terminal_status", "hangup_cause", "answered_by",
                                       "sip_response_code") if data.get(k) is not None}
        legs_log.info("leg event", leg_sid=row["leg_sid"], account_sid=row["account_sid"],
                      event_name=row["event_name"], sequence=row["sequence"], **fields)


def log_delivery_failure(event_sid: str, endpoint: str, payload: dict[str, Any], result: Result) -> None:
    """One line per failed delivery attempt (retried or not); the endpoint without credentials or query."""
    data = event_fields({"payload": payload})
    parts = urlsplit(endpoint)
    where = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
    events_log.warning("event delivery failed", leg_sid=data.get("leg_sid"), account_sid=data.get("account_sid"),
                       event_sid=event_sid, endpoint=where, outcome=result.outcome,
                       status_code=result.status_code, error=result.error)


def log_start(settings: Settings) -> None:
    """The start-up line: version, node, where it listens, the database (without password), the network."""
    structlog.get_logger("legato.server").info(
        "legato started", version=__version__, node=socket.gethostname(), pid=os.getpid(),
        listen=f"http://{settings.host}:{settings.port}",
        database=make_url(settings.database_url).render_as_string(hide_password=True),
        network=settings.network, time_scale=settings.time_scale, dc_codes=",".join(settings.dc_map))
