"""The cluster's bus (NATS): a subject per node for commands, request/reply with a bounded wait.

A node subscribes to `legato.<cluster_id>.node.<name>.http` (`command_subject`); any node sends a request
there and waits for the reply. Each request is handled in its own task, so a slow command does not hold up the next one.
A node that cannot reach the bus when it starts stops, saying so (`BusUnreachable`); once connected, the
client reconnects by itself, and a lost or regained connection is one log line each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as RequestTimeout

log = logging.getLogger(__name__)
Handler = Callable[[bytes], Awaitable[bytes]]
START_WAIT = 10.0  # seconds a starting node tries to reach the bus before it gives up


class BusUnreachable(RuntimeError):
    """The bus could not be reached when this node started."""


class NoAnswer(RuntimeError):
    """The node did not answer in time (gone, or the bus is down)."""


def command_subject(cluster: str, node: str) -> str:
    """Where node `node` of cluster `cluster` (the database's cluster id) takes commands: two clusters on one
    NATS server never see each other's commands, whatever their nodes are called."""
    return f"legato.{cluster}.node.{node}.http"


class Bus:
    """One NATS connection of this node."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self._nc: Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._error: str | None = None  # the last connection error, said once until the bus is back

    async def connect(self, wait: float = START_WAIT) -> None:
        """Connect, trying for up to `wait` seconds; BusUnreachable (naming the URL and why) after that."""
        try:
            self._nc = await asyncio.wait_for(nats.connect(
                self.url, name=f"legato-{self.name}", connect_timeout=2, max_reconnect_attempts=-1,
                reconnect_time_wait=0.5, error_cb=self._on_error, disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected), wait)
        except (TimeoutError, OSError, NatsError) as exc:
            raise BusUnreachable(
                f"cannot reach the cluster's bus at {self.url} within {wait:g} s ({self._error or exc!r}); "
                f"is nats-server running there? (--bus, LEGATO_BUS_URL)") from None
        self._error = None

    async def _on_error(self, exc: Exception) -> None:
        """The client's every failed attempt: one line (no traceback) until the bus is reached again."""
        said = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if said != self._error:
            log.warning("bus connection error url=%s error=%s", self.url, said)
        self._error = said

    async def _on_disconnected(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            log.warning("off the bus url=%s; reconnecting (commands routed here get 503 meanwhile)", self.url)

    async def _on_reconnected(self) -> None:
        self._error = None
        log.warning("back on the bus url=%s", self.url)

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def serve(self, subject: str, handler: Handler) -> None:
        """Answer requests on `subject` with `handler(payload)`."""
        assert self._nc is not None

        async def on_message(msg: Msg) -> None:
            task = asyncio.create_task(self._answer(msg, handler), name=f"bus-{subject}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        await self._nc.subscribe(subject, cb=on_message)

    async def _answer(self, msg: Msg, handler: Handler) -> None:
        try:
            reply = await handler(msg.data)
        except Exception:
            log.exception("bus request failed subject=%s", msg.subject)
            return
        if msg.reply:
            await msg.respond(reply)

    async def request(self, subject: str, payload: bytes, wait: float) -> bytes:
        """The reply to `payload` on `subject`; NoAnswer when nobody answers within `wait` seconds."""
        if self._nc is None or not self._nc.is_connected:
            raise NoAnswer("this node is not connected to the bus")
        try:
            return (await self._nc.request(subject, payload, timeout=wait)).data
        except (RequestTimeout, NoRespondersError) as exc:
            raise NoAnswer(f"no answer on {subject} within {wait:g} s") from exc

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2)
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
