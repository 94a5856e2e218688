"""A cluster of real `legato serve` nodes for tests: one PostgreSQL database, one secret key, the NATS bus."""

from __future__ import annotations

import concurrent.futures
import signal
import socket
from pathlib import Path

from cryptography.fernet import Fernet

from tests.legato_server import LegatoServer, drop_postgres_databases, free_port, new_postgres_database

BUS_URL = "nats://127.0.0.1:4222"
SHORT_LEASE = {"LEGATO_LEASE_RENEW_INTERVAL": "0.2", "LEGATO_LEASE_TTL": "1"}


def nats_running() -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", 4222)) == 0


class Cluster:
    """Nodes n1..nN on one database, one key and the bus, each on its own port."""

    def __init__(self, workdir: Path, lease: dict[str, str] | None = None, time_scale: float = 5.0) -> None:
        self.workdir = workdir
        self.lease = SHORT_LEASE if lease is None else lease
        self.time_scale = time_scale
        self.env: dict[str, dict[str, str]] = {}  # per node name: more environment
        self.database_url = new_postgres_database()
        self.key = Fernet.generate_key().decode()
        self.nodes: dict[str, LegatoServer] = {}

    def node(self, name: str) -> LegatoServer:
        if name not in self.nodes:
            self.nodes[name] = LegatoServer(
                workdir=self.workdir,
                database_url=self.database_url,
                time_scale=self.time_scale,
                args=["--node", name, "--bus", BUS_URL],
                env={
                    **self.lease,
                    "LEGATO_SECRET_KEY": self.key,
                    "LEGATO_SECRET_KEY_FILE": "",
                    **self.env.get(name, {}),
                },
            )
        return self.nodes[name]

    def start(self, *names: str) -> list[LegatoServer]:
        """Start these nodes at once (the first alone first: it migrates the database)."""
        first, *rest = names
        self.node(first).start()
        with concurrent.futures.ThreadPoolExecutor(len(rest) or 1) as pool:
            list(pool.map(lambda n: self.node(n).start(), rest))
        return [self.node(n) for n in names]

    def restart(self, name: str) -> LegatoServer:
        server = self.node(name)
        server.port = free_port()
        return server.start()

    def stop(self) -> None:
        for server in self.nodes.values():
            server.stop(signal.SIGTERM if "--workers" in server.args else signal.SIGKILL)
        drop_postgres_databases()
