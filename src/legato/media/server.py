"""The media engine process: `python -m legato.media.server --control 127.0.0.1:PORT --rtp-ports 20000-20999`.

Runs on uvloop. Prints one line `legato-media listening HOST:PORT` on stdout once it accepts
control connections (PORT 0 picks a free one), then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import tempfile
from pathlib import Path

import structlog

from legato.logformat import configure_logging
from legato.media.control import MAX_LINE, ControlServer
from legato.media.core import MediaCore
from legato.media.ports import PortPool

log = structlog.get_logger("legato.media.server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="legato-media", description=__doc__)
    parser.add_argument("--control", default="127.0.0.1:7070", help="HOST:PORT for the control socket")
    parser.add_argument("--rtp-ports", default="20000-20999", help="FIRST-LAST RTP port range")
    parser.add_argument("--rtp-host", default="0.0.0.0", help="address RTP sockets bind to")
    parser.add_argument("--advertise", default=None,
                        help="address put in SDP (default: rtp-host, or 127.0.0.1)")
    parser.add_argument("--recordings-dir", default=str(Path(tempfile.gettempdir()) / "legato-recordings"))
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "legato-media-cache"))
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--log-format", default="text", choices=("text", "json"),
                        help="text (logfmt) or json (one object per line), as the API process writes")
    parser.add_argument("--speech-engine", default="pocketsphinx", help="speech recogniser (legato.speech ENGINES)")
    parser.add_argument("--no-uvloop", action="store_true", help="use the default asyncio loop")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started this one is gone (even after SIGKILL)")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    host, _, port = args.control.rpartition(":")
    first, _, last = args.rtp_ports.partition("-")
    advertise = args.advertise or (args.rtp_host if args.rtp_host != "0.0.0.0" else "127.0.0.1")
    control = ControlServer()
    core = MediaCore(PortPool(int(first), int(last)), args.rtp_host, advertise, control.emit,
                     Path(args.recordings_dir), Path(args.cache_dir), args.speech_engine)
    control.core = core
    server = await asyncio.start_server(control.serve_client, host or "127.0.0.1", int(port), limit=MAX_LINE)
    bound = server.sockets[0].getsockname()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # before the ready line: a stop right after it is clean
        loop.add_signal_handler(sig, stop.set)
    log.info("media engine listening", control=f"{bound[0]}:{bound[1]}", rtp_ports=args.rtp_ports,
             rtp_host=args.rtp_host, advertise=advertise)
    print(f"legato-media listening {bound[0]}:{bound[1]}", flush=True)
    watch = asyncio.create_task(_watch_parent(stop)) if args.exit_with_parent else None
    async with server:
        await stop.wait()
    if watch is not None:
        watch.cancel()
    await core.close()
    log.info("media engine stopped")


_PARENT = os.getppid()  # read at import, first thing: a parent that dies during start-up is still noticed


async def _watch_parent(stop: asyncio.Event, every: float = 1.0) -> None:
    while not stop.is_set():
        if os.getppid() != _PARENT:  # re-parented: the caller died without stopping us
            stop.set()
            return
        await asyncio.sleep(every)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_format, level=logging.getLevelNamesMapping().get(args.log_level.upper(), logging.INFO))
    structlog.contextvars.bind_contextvars(process="media", pid=os.getpid())  # tells its lines from the API's
    if args.no_uvloop:
        asyncio.run(serve(args))
    else:
        import uvloop

        uvloop.run(serve(args))


if __name__ == "__main__":
    main()
