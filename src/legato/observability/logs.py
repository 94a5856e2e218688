"""Structured logs through structlog: `json` (one JSON object per line) or `text` (logfmt).

Every record, whether from structlog or from a stdlib `logging` logger (Legato's modules, uvicorn,
SQLAlchemy), goes through one handler on the root logger and one renderer, so every line of a
server's output parses in the chosen format, tracebacks included (as an `exception` field).
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy.engine import make_url

from legato import __version__
from legato.config import Settings
from legato.events.sinks import Result
from legato.logformat import LineLogger
from legato.logformat import configure_logging as configure_logging  # re-exported: the API process sets it up here
from legato.observability.metrics import event_fields

legs_log = LineLogger("legato.legs")
events_log = structlog.get_logger("legato.events")



def log_events(rows: list[dict[str, Any]]) -> None:
    """Writer listener: one line per durable event (each state change is one), with leg_sid and account_sid."""
    if not legs_log.isEnabledFor(logging.INFO):
        return
    for row in rows:
        data = event_fields(row)
        fields = {k: data[k] for k in ("state", "terminal_status", "hangup_cause", "answered_by",
                                       "sip_response_code") if data.get(k) is not None}
        legs_log.info("leg event", leg_sid=row["subject_sid"], account_sid=row["account_sid"],
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
    """The start-up line: version, node (its name in the cluster), host, where it listens, the database (without
    password), the network."""
    structlog.get_logger("legato.server").info(
        "legato started", version=__version__, node=settings.node_name, host=socket.gethostname(), pid=os.getpid(),
        listen=f"http://{settings.host}:{settings.port}",
        database=make_url(settings.database_url).render_as_string(hide_password=True),
        network=settings.network, time_scale=settings.time_scale, dc_codes=",".join(settings.dc_map))


def log_admin_token(token: str) -> None:
    """The one time the operator's admin token is shown: at the first start on an empty database."""
    structlog.get_logger("legato.server").warning(
        "admin token created: save it now, it is not shown again (only its hash is stored; "
        "`legato admin token rotate` on the server's host makes a new one); use it as "
        "Authorization: Bearer <admin_token>, or `legato login URL --admin-token <admin_token>`",
        admin_token=token)
