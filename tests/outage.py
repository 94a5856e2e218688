"""Making a real database unavailable to a Legato process for a while, without touching the machine's service.

- `TcpProxy`: a TCP relay on 127.0.0.1 between Legato and PostgreSQL; `cut()` closes the listener and every
  relayed connection (Legato's connections die, new ones are refused), `restore()` listens again.
- `DiskFull`: the file-size limit of a running process lowered to one byte (prlimit): every write it makes to
  its SQLite files fails as on a full disk, while reads still work; `restore()` lifts the limit.
"""

from __future__ import annotations

import asyncio
import resource
import threading
from dataclasses import dataclass, field

from tests.legato_server import free_port


@dataclass
class TcpProxy:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`target` on its own thread and loop."""

    target: int
    port: int = field(default_factory=free_port)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _server: asyncio.AbstractServer | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    def __post_init__(self) -> None:
        threading.Thread(target=self._loop.run_forever, daemon=True, name="tcp-proxy").start()

    def url_for(self, database_url: str) -> str:
        """`database_url` (on 127.0.0.1:5432) through this proxy."""
        return database_url.replace(f"127.0.0.1:{self.target}", f"127.0.0.1:{self.port}")

    def restore(self) -> TcpProxy:
        self._call(self._listen())
        return self

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _call(self, work: object) -> None:
        asyncio.run_coroutine_threadsafe(work, self._loop).result(10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                sink.transport.abort()
                self._writers.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@dataclass
class DiskFull:
    """The process `pid` cannot grow any file (as on a full disk) between `begin()` and `restore()`."""

    pid: int

    def begin(self) -> None:
        _, hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (1, hard))

    def restore(self) -> None:
        _, hard = resource.prlimit(self.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (hard, hard))
