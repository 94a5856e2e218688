"""The control protocol: newline-delimited JSON over a local TCP socket.

Request:      {"id": 7, "cmd": "allocate", "args": {"leg_id": "LG1"}}
Response:     {"id": 7, "ok": true, "result": {...}}
              {"id": 7, "ok": false, "error": {"code": "no_ports", "message": "..."}}
Notification: {"event": "dtmf_received", "leg_id": "LG1", "data": {"digit": "5", "source": "rfc4733"}}
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from legato.media import base
from legato.media.core import MediaCore

log = logging.getLogger(__name__)
MAX_LINE = 1 << 20


def encode(message: dict[str, Any]) -> bytes:
    """One message as a JSON line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def _error(req_id: Any, code: str, message: str) -> dict[str, Any]:
    return {"id": req_id, "ok": False, "error": {"code": code, "message": message}}


class ControlConnection:
    """One connected call-control client; owns the legs it allocated."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    def send(self, message: dict[str, Any]) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode(message))


class ControlServer:
    """Serves MediaCore over JSON lines; notifications go to the connection that owns the leg."""

    def __init__(self) -> None:
        self.core: MediaCore | None = None
        self.connections: set[ControlConnection] = set()

    def emit(self, owner: object, note: base.MediaNotification) -> None:
        message = {"event": note.name, "leg_id": note.leg_id, "data": note.data}
        targets = [owner] if isinstance(owner, ControlConnection) else list(self.connections)
        for conn in targets:
            conn.send(message)

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = ControlConnection(writer)
        self.connections.add(conn)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    break
                except asyncio.LimitOverrunError:
                    conn.send(_error(None, "bad_request", "line too long"))
                    break
                if line.strip():
                    await self._dispatch(conn, line)
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.connections.discard(conn)
            if self.core is not None:
                self.core.release_owned(conn)
            writer.close()

    async def _dispatch(self, conn: ControlConnection, line: bytes) -> None:
        req_id: Any = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise base.MediaError("bad_request", "expected an object with cmd")
            req_id = request.get("id")
            args = request.get("args") or {}
            if not isinstance(args, dict):
                raise base.MediaError("bad_request", "args must be an object")
            assert self.core is not None
            result = await self.core.handle(conn, request["cmd"], args)
            conn.send({"id": req_id, "ok": True, "result": result})
        except base.MediaError as exc:
            conn.send(_error(req_id, exc.code, exc.message))
        except json.JSONDecodeError as exc:
            conn.send(_error(None, "bad_request", f"bad JSON: {exc}"))
        except Exception as exc:  # one bad command must never take the engine down
            log.exception("command failed")
            conn.send(_error(req_id, "failed", repr(exc)))
