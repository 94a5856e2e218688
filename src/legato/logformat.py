"""How every Legato process writes its log: structlog's `json` (one JSON object per line) or `text` (logfmt)
renderer behind one handler on the root logger. A leaf module (logging and structlog only), so the media
engine process uses it as the API process does."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]
QUIET = {
    "alembic": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "sqlalchemy": logging.WARNING,
}


_ESCAPES = {"\t": "\\t", "\r": "\\r"}


class Logfmt(structlog.processors.LogfmtRenderer):
    """structlog's logfmt renderer, the same text (but control characters, escaped in a quoted value), with each
    key's check made once (structlog's walks every character of every key of every line: about half a line's
    cost) and ints and floats written as they are (their text has nothing to quote). Keys are few (the code's),
    so the checked ones are kept, up to 4096."""

    def __init__(self, key_order: list[str]) -> None:
        super().__init__(key_order=key_order)
        self._keys: set[str] = set()

    def __call__(self, _: Any, __: str, event_dict: Any) -> str:
        elements: list[str] = []
        keys = self._keys
        for key, value in self._ordered_items(event_dict):
            if key not in keys:
                if any(c <= " " for c in key):
                    raise ValueError(f'Invalid key: "{key}"')
                if len(keys) < 4096:
                    keys.add(key)
            kind = type(value)
            if kind is int or kind is float:
                elements.append(f"{key}={value}")
                continue
            if value is None:
                elements.append(f"{key}=")
                continue
            if isinstance(value, bool):
                if self.bool_as_flag and value:
                    elements.append(f"{key}")
                    continue
                value = "true" if value else "false"
            value = str(value)
            # Control characters but newline (a tab, a CR from a percent-decoded path...): structlog writes them
            # raw, which no logfmt reader takes (a CR even splits the line); here they are escaped and quoted.
            controls = not value.isprintable() and not value.replace("\n", "").isprintable()
            backslashes_need_escaping = controls or " " in value or "=" in value or '"' in value
            if backslashes_need_escaping and "\\" in value:
                value = value.replace("\\", "\\\\")
            value = value.replace('"', '\\"').replace("\n", "\\n")
            if controls:
                value = "".join(c if c.isprintable() else _ESCAPES.get(c) or f"\\u{ord(c):04x}" for c in value)
            if backslashes_need_escaping:
                value = f'"{value}"'
            elements.append(f"{key}={value}")
        return " ".join(elements)


class _Direct:
    """The handler and renderer `configure_logging` set up, for `LineLogger`'s direct lines."""

    handler: logging.StreamHandler | None = None  # type: ignore[type-arg]
    renderer: Any = None


def configure_logging(log_format: str, *, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Route every log record through structlog's renderer for `log_format` (`json` or `text`)."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else Logfmt(key_order=["ts", "level", "logger", "event"])
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    _Direct.handler, _Direct.renderer = handler, renderer
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
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class LineLogger:
    """A structlog logger for the lines written for every request and every event (`info` only): while the
    logging is the one `configure_logging` set up (its one handler on the root logger, no filters, nothing
    on the way), a line is rendered by the same processors and renderer and written to that handler's
    stream directly, the same text without a LogRecord, its copy and the walk through `logging`; otherwise
    it goes through structlog as any other line."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger = logging.getLogger(name)
        self._structlog = structlog.get_logger(name)

    def isEnabledFor(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    def info(self, event: str, **fields: Any) -> None:
        logger, handler = self._logger, _Direct.handler
        if not logger.isEnabledFor(logging.INFO):
            return
        if handler is None or not self._direct(handler):
            self._structlog.info(event, **fields)
            return
        event_dict: Any = {**fields, "event": event}
        for processor in _SHARED:
            event_dict = processor(logger, "info", event_dict)
        line = _Direct.renderer(logger, "info", event_dict) + handler.terminator
        with handler.lock:  # type: ignore[union-attr]
            try:
                handler.stream.write(line)
                handler.flush()
            except Exception:  # as StreamHandler.emit: logging never raises into the caller
                handler.handleError(logging.makeLogRecord({"msg": line}))

    def _direct(self, handler: logging.Handler) -> bool:
        """Whether a record of this logger would reach `handler` alone, unfiltered, unchanged. (Walked for each
        line: `logging` says nothing when a handler is added, e.g. by pytest's caplog, and a kept answer would
        have to be checked against all this reads.)"""
        logger: logging.Logger | None = self._logger
        while logger is not None:
            if logger.disabled or logger.filters:
                return False
            handlers = logger.handlers
            if handlers:
                return (len(handlers) == 1 and handlers[0] is handler and not handler.filters
                        and handler.level <= logging.INFO)
            if not logger.propagate:
                return False
            logger = logger.parent
        return False


__all__ = ["QUIET", "LineLogger", "Logfmt", "configure_logging"]
