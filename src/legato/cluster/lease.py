"""A node's lease on its name: taken at start, renewed while running, released at a clean stop.

A node row holds a name, an epoch and a lease expiry. Starting takes the name at epoch + 1, which
is refused while another running process holds a live lease on it, unless that holder is this
node's own previous incarnation (same host, its process gone). A node whose lease expired may be
taken over (its epoch bumped) by another node; every write of call control checks the epoch
(store/writer.py), so an owner that was taken over writes nothing more. Lease times are wall-clock
UTC: nodes on several machines need synchronised clocks (NTP).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from legato.store.database import database_unavailable
from legato.store.nodes import NodeRepository

log = logging.getLogger(__name__)
ATTEMPTS = 5  # races lost in a row before giving up on taking a name


class LeaseHeld(RuntimeError):
    """Another running process holds this node name's lease: starting would take its live legs."""


def process_gone(pid: int) -> bool:
    """True when no process `pid` runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


class Lease:
    """This node's hold on its name in the database."""

    def __init__(
        self,
        nodes: NodeRepository,
        name: str,
        *,
        ttl: float,
        renew_every: float,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.nodes = nodes
        self.name = name
        self.ttl = timedelta(seconds=ttl)
        self.renew_every = renew_every
        self.wall = wall
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.epoch = 0
        self.expires: datetime | None = None
        self.lost = False
        self.on_lost: list[Callable[[], None]] = []
        self.status: Callable[[], dict[str, Any]] = dict  # what the node publishes with each renewal
        self._task: asyncio.Task[None] | None = None

    async def acquire(self) -> int:
        """Take the name at a new epoch and return it; LeaseHeld when a running process holds it."""
        for _ in range(ATTEMPTS):
            now = self.wall()
            row = await self.nodes.get(self.name)
            status = self.status()
            if row is None:
                if await self.nodes.insert(self.name, 1, now + self.ttl, now, self.host, self.pid, **status):
                    return self._held(1, now)
                continue
            if row["lease_expires_at"] > now and not self._previous_incarnation(row):
                raise LeaseHeld(self._held_message(row, now))
            mine = {"lease_expires_at": now + self.ttl, "renewed_at": now, "started_at": now, "host": self.host,
                    "pid": self.pid, **status}
            if await self.nodes.take(self.name, row["epoch"], **mine):
                return self._held(row["epoch"] + 1, now)
        raise LeaseHeld(f"node {self.name!r}: other processes keep taking this name; is more than one starting?")

    def start(self) -> None:
        """Renew the lease every `renew_every` seconds until stopped."""
        self._task = asyncio.create_task(self._renew_forever(), name="legato-lease")

    async def release(self) -> None:
        """Stop renewing and let the lease go, so a restart takes the name at once."""
        if self._task is not None:
            self._task.cancel()
        if self.lost or self.expires is None:
            return
        try:
            now = self.wall()
            await self.nodes.renew(self.name, self.epoch, now, now)
        except Exception as exc:
            log.warning("could not release the lease of node %s (it expires by itself) error=%s", self.name, exc)

    def problem(self) -> str | None:
        """Why this node should not take work (None when the lease is held)."""
        if self.lost:
            return f"node {self.name} was taken over by another process (epoch {self.epoch} fenced)"
        if self.expires is None or self.expires <= self.wall():
            return f"the lease of node {self.name} expired: it could not be renewed"
        return None

    def _held(self, epoch: int, now: datetime) -> int:
        self.epoch, self.expires = epoch, now + self.ttl
        log.info("node %s holds its lease at epoch %d", self.name, epoch)
        return epoch

    def _previous_incarnation(self, row: dict[str, Any]) -> bool:
        """The holder ran on this host and is gone (or had this very pid: a container restarted as pid 1)."""
        pid = row["pid"]
        return row["host"] == self.host and pid is not None and (pid == self.pid or process_gone(pid))

    def _held_message(self, row: dict[str, Any], now: datetime) -> str:
        age = (now - row["renewed_at"]).total_seconds()
        left = (row["lease_expires_at"] - now).total_seconds()
        return (
            f"node {self.name!r} is already running on this database (pid {row['pid']} on {row['host']}, "
            f"lease renewed {age:.1f} s ago, expires in {left:.1f} s). Starting would take its live legs. "
            f"Stop that process first, or start this one with another name (--node NAME)."
        )

    async def _renew_forever(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.renew_every)
            now = self.wall()
            try:
                held = await self.nodes.renew(self.name, self.epoch, now + self.ttl, now, **self.status())
            except Exception as exc:
                if not failing:
                    log.error(
                        "lease renewal failed node=%s error=%s", self.name, exc, exc_info=not database_unavailable(exc)
                    )
                failing = True
                continue
            if failing:
                log.warning("lease renewed again node=%s", self.name)
                failing = False
            if not held:
                self._lose()
                return
            self.expires = now + self.ttl

    def _lose(self) -> None:
        log.critical("node %s lost its name to another process (epoch %d fenced)", self.name, self.epoch)
        self.lost = True
        for hook in self.on_lost:
            hook()
