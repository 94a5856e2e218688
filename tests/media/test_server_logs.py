"""The media engine process logs as the API process does: `--log-format json` gives one JSON object per line
(level, logger, timestamp, and `process: media`), `text` gives logfmt; ManagedMedia passes the server's format."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from legato.media.process import ManagedMedia
from tests.legato_server import free_port

pytestmark = pytest.mark.media
SRC = str(Path(__file__).resolve().parents[2] / "src")


def run_engine(tmp_path: Path, log_format: str) -> list[str]:
    """Start the engine, stop it with SIGTERM, return its stderr lines."""
    first = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "legato.media.server",
            "--control",
            "127.0.0.1:0",
            "--rtp-ports",
            f"{first}-{first + 1}",
            "--rtp-host",
            "127.0.0.1",
            "--recordings-dir",
            str(tmp_path / "rec"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--log-format",
            log_format,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("legato-media listening")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return [line for line in stderr.splitlines() if line.strip()]


def test_json_lines_like_the_api_process(tmp_path: Path) -> None:
    records = [json.loads(line) for line in run_engine(tmp_path, "json")]  # every line parses
    assert [r["event"] for r in records] == ["media engine listening", "media engine stopped"]
    for record in records:
        assert record["level"] == "info" and record["logger"] == "legato.media.server"
        assert record["process"] == "media" and record["ts"].endswith("Z")


def test_text_is_logfmt(tmp_path: Path) -> None:
    lines = run_engine(tmp_path, "text")
    assert lines[0].startswith("ts=") and 'event="media engine listening"' in lines[0] and "process=media" in lines[0]


def test_managed_media_passes_the_servers_format() -> None:
    media = ManagedMedia(rtp_ports=(30000, 30009), log_format="json")
    argv = media.argv()
    assert argv[argv.index("--log-format") + 1] == "json"
