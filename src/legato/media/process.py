"""The media engine as a child process of call control, reached through a MediaClient.

    media = ManagedMedia(rtp_ports=(20000, 20999), advertise="203.0.113.7", recordings_dir=Path("rec"))
    await media.start(on_notification)   # spawns `python -m legato.media.server`, connects
    ...
    await media.close()                  # disconnects, then stops the process by its PID
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from legato.media.base import MediaError, NotificationSink
from legato.media.client import MediaClient

log = logging.getLogger(__name__)
READY_PREFIX = "legato-media listening "
START_SECONDS = 20.0
STOP_SECONDS = 5.0
SRC = str(Path(__file__).resolve().parents[2])  # the engine runs the same code as this process


class ManagedMedia(MediaClient):
    """A MediaClient that starts its own engine process on `start` and stops it on `close`."""

    def __init__(self, *, rtp_ports: tuple[int, int], rtp_host: str = "0.0.0.0", advertise: str = "127.0.0.1",
                 recordings_dir: Path | None = None, cache_dir: Path | None = None,
                 control_host: str = "127.0.0.1", timeout: float = 10.0, log_format: str = "text",
                 speech_engine: str = "pocketsphinx") -> None:
        super().__init__(control_host, 0, timeout)
        self.speech_engine = speech_engine
        self.rtp_ports = rtp_ports
        self.rtp_host = rtp_host
        self.advertise = advertise
        self.recordings_dir = recordings_dir or Path(tempfile.gettempdir()) / "legato-recordings"
        self.cache_dir = cache_dir or Path(tempfile.gettempdir()) / "legato-media-cache"
        self.log_format = log_format  # the engine logs in the API process's format, to the same stderr
        self.process: asyncio.subprocess.Process | None = None

    def argv(self) -> list[str]:
        """The engine's command line."""
        first, last = self.rtp_ports
        return [sys.executable, "-m", "legato.media.server", "--control", f"{self.host}:0",
                "--rtp-ports", f"{first}-{last}", "--rtp-host", self.rtp_host, "--advertise", self.advertise,
                "--recordings-dir", str(self.recordings_dir), "--cache-dir", str(self.cache_dir),
                "--log-format", self.log_format, "--speech-engine", self.speech_engine, "--exit-with-parent"]

    async def start(self, notify: NotificationSink) -> None:
        """Spawn the engine, wait for its `listening` line, then connect."""
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH")) if p)
        self.process = await asyncio.create_subprocess_exec(
            *self.argv(), stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL, env=env,
            start_new_session=True)
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), START_SECONDS)
        except TimeoutError:
            await self._stop_process()
            raise MediaError("failed", f"media engine did not start in {START_SECONDS:.0f} s") from None
        text = line.decode(errors="replace").strip()
        if not text.startswith(READY_PREFIX):
            await self._stop_process()
            raise MediaError("failed", f"media engine failed to start: {text or 'no output'}")
        self.port = int(text.rsplit(":", 1)[1])
        log.info("media engine started pid=%d control=%s:%d rtp_ports=%d-%d", self.process.pid, self.host,
                 self.port, *self.rtp_ports)
        try:
            await super().start(notify)
        except BaseException:
            await self._stop_process()
            raise

    async def close(self) -> None:
        """Disconnect (the engine frees the legs this client held), then stop the process."""
        try:
            await super().close()
        finally:
            await self._stop_process()

    @property
    def pid(self) -> int | None:
        """The engine's process id while it runs."""
        return self.process.pid if self.process is not None and self.process.returncode is None else None

    async def _stop_process(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_SECONDS)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
