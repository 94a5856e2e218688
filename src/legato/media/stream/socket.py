"""The asyncio WebSocket of one media stream (the `websockets` library), around its sans-I/O StreamCore.

It connects to the checked address it was given (the API process resolved the URL's host and checked
every address with the account's endpoint policy just before) while the handshake keeps the URL's
Host header and TLS server name, sends the Standard Webhooks headers it was given, then writes what
the core drains and hands every frame the application sends to `on_frame`. It reports its end once:
`on_end(reason, message)` with reason requested, hangup, remote_closed, error or unreachable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from legato.media.stream.core import StreamCore
from legato.media.stream.protocol import ProtocolError

log = logging.getLogger(__name__)
OPEN_TIMEOUT = 5.0
CLOSE_TIMEOUT = 2.0
MAX_BACKLOG = 1500  # frames waiting for a slow application (30 s of one track) before the stream ends
MAX_FRAME = 1 << 20  # a frame from the application: 1 MiB (about 60 s of 8 kHz mu-law in base64)
REFUSED = frozenset({1002, 1007, 1009})  # close codes the library sends when it refuses the application's frame


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect: the URL (for Host, TLS name and path), the checked address, the signed headers."""

    url: str
    address: str
    headers: dict[str, str] = field(default_factory=dict)


class StreamSocket:
    """One stream's WebSocket on the media loop."""

    def __init__(
        self,
        stream: StreamCore,
        target: Target,
        on_frame: Callable[[str], None],
        on_open: Callable[[], None],
        on_end: Callable[[str, str | None], None],
    ) -> None:
        self.stream = stream
        self.target = target
        self.on_frame = on_frame
        self.on_open = on_open
        self.on_end = on_end
        self.reason: str | None = None  # why we end it (requested, hangup, error), set before the close
        self.message: str | None = None  # what went wrong, when we end it for an error
        self._ws: ClientConnection | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.get_running_loop().create_future()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"stream-{self.stream.stream_sid}")

    def flush(self) -> None:
        """Queue what the core has to send."""
        for frame in self.stream.drain():
            self._queue.put_nowait(frame)
        if self._queue.qsize() > MAX_BACKLOG and self.reason is None and self._ws is not None:
            self.reason, self.message = "error", "the application does not read what it is sent (30 s waiting)"
            self.stream.close()
            self.stream.drain()
            asyncio.get_running_loop().create_task(self._ws.close(1008, "not reading"))

    def finish(self, reason: str) -> None:
        """End the stream from our side: what is queued (the `stop` frame last) goes, then a clean close."""
        if self.reason is None:
            self.reason = reason
            self.stream.close()
            self.flush()
            self._queue.put_nowait(None)

    async def _connect(self) -> ClientConnection:
        parts = urlsplit(self.target.url)
        secure = parts.scheme == "wss"
        port = parts.port or (443 if secure else 80)
        extra = {"server_hostname": parts.hostname} if secure else {}
        return await connect(
            self.target.url,
            host=self.target.address,
            port=port,
            additional_headers=self.target.headers,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=CLOSE_TIMEOUT,
            max_size=MAX_FRAME,
            compression=None,
            proxy=None,
            user_agent_header="Legato",
            **extra,
        )

    async def _run(self) -> None:
        try:
            ws = await self._connect()
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            self._end("unreachable" if self.reason is None else self.reason, str(exc) or type(exc).__name__)
            return
        if self.reason is not None:  # stopped while connecting
            await ws.close()
            self._end(self.reason, None)
            return
        loop = asyncio.get_running_loop()
        self._ws = ws
        self.stream.open(loop.time())
        self.on_open()
        self.flush()
        writer = loop.create_task(self._write(ws))
        reason, message = "remote_closed", None
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    raise ProtocolError("binary frames are not part of the protocol; send JSON text frames")
                self.on_frame(frame)
        except ConnectionClosed as exc:
            message = str(exc)
            if exc.sent is not None and exc.sent.code in REFUSED and (exc.rcvd is None or not exc.rcvd_then_sent):
                reason = "error"  # the library refused a frame (over MAX_FRAME, bad UTF-8): not a remote close
        except ProtocolError as exc:
            reason, message = "error", str(exc)
            await ws.close(1008, str(exc)[:120])
        except Exception as exc:  # a bug must not leave the stream hanging
            log.exception("stream failed stream_sid=%s", self.stream.stream_sid)
            reason, message = "error", str(exc)
            await ws.close(1011)
        finally:
            if self.reason is None:
                self.stream.close()  # no stop frame can go out any more; the core only forgets its queue
                self.stream.drain()
            else:
                await asyncio.wait({writer}, timeout=CLOSE_TIMEOUT)
            writer.cancel()
        self._end(self.reason or reason, self.message if self.reason else message)

    async def _write(self, ws: ClientConnection) -> None:
        try:
            while True:
                frame = await self._queue.get()
                if frame is None:
                    await ws.close()
                    return
                await ws.send(frame)
        except ConnectionClosed:
            return

    def _end(self, reason: str, message: str | None) -> None:
        if not self.done.done():
            self.done.set_result(None)
            self.on_end(reason, message)
