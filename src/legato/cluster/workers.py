"""`legato serve --workers N`: N node processes of one cluster behind one API port, so every core is used.

The parent starts N children (`legato serve`, configured through LEGATO_* variables: the parent's settings
with the node name NAME-1..NAME-N, one worker each, and `reuse_port`), each binding the same host and port
with SO_REUSEPORT so the kernel spreads connections over them. Every child is a full node (own lease, own
bus subject, own event delivery); a command reaching the wrong one is routed over the bus like any other.
The parent passes SIGTERM/SIGINT on (each child drains) and restarts a child that exits on its own.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from legato.config import Settings

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
RESTART_PAUSE = 1.0  # seconds before a child that died is started again


def child_environment(settings: Settings, index: int) -> dict[str, str]:
    """The environment of worker `index` (1-based): every setting as its LEGATO_* variable."""
    env = dict(os.environ)
    values = settings.model_dump(mode="json")
    values.update(node_name=f"{settings.node_name}-{index}", workers=1, reuse_port=True)
    if settings.secret_key is not None:
        values["secret_key"] = settings.secret_key.get_secret_value()
    for name, value in values.items():
        key = f"LEGATO_{name.upper()}"
        if value is None:
            env.pop(key, None)
        else:
            env[key] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return env


def _end_with_parent() -> None:
    """In the child (Linux): receive SIGTERM when the parent dies, so no worker outlives it."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def run_workers(settings: Settings) -> int:
    """Run the workers until told to stop; returns the exit status."""
    children: dict[int, subprocess.Popen[bytes]] = {}
    stopping = False

    def start(index: int) -> None:
        children[index] = subprocess.Popen(
            [sys.executable, "-m", "legato", "serve"],
            env=child_environment(settings, index),
            preexec_fn=_end_with_parent,
        )
        log.info("worker started node=%s-%d pid=%d", settings.node_name, index, children[index].pid)

    def stop(sig: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(sig)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for index in range(1, settings.workers + 1):
        start(index)
    while True:
        time.sleep(0.2)
        if stopping:
            if all(child.poll() is not None for child in children.values()):
                return 0
            continue
        for index, child in list(children.items()):
            if child.poll() is not None:
                log.error("worker node=%s-%d exited status=%s; restarting", settings.node_name, index, child.returncode)
                time.sleep(RESTART_PAUSE)
                start(index)
