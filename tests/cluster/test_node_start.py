"""Starting a cluster node: the cluster's secret key is required (never one generated per node), and
`--workers` needs what a cluster needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.legato_server import LegatoServer, free_port


def serve(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    server = LegatoServer(workdir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'legato.db'}")
    env = server._env()
    env.pop("LEGATO_SECRET_KEY_FILE")
    env.pop("LEGATO_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "legato", "serve", "--port", str(free_port()), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_cluster_node_refuses_to_start_without_the_clusters_key(tmp_path: Path) -> None:
    result = serve(tmp_path, "--node", "n1", "--bus", "nats://127.0.0.1:4222")
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "A cluster node (--bus) needs the cluster's secret key" in message
    assert "LEGATO_SECRET_KEY_FILE" in message
    assert not (tmp_path / "legato.key").exists()  # no per-node key was made


def test_workers_need_a_bus_and_postgresql(tmp_path: Path) -> None:
    result = serve(tmp_path, "--workers", "2")
    assert result.returncode == 2
    assert "workers > 1 needs a bus (--bus nats://...) and a PostgreSQL database_url" in result.stderr


def test_a_database_that_does_not_answer_stops_serve_with_its_reason(tmp_path: Path) -> None:
    result = serve(tmp_path, "--host", "127.0.0.1", "--database-url", "postgresql+asyncpg://postgres@127.0.0.1:1/x")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ConnectionRefusedError")
