"""The one boundary between sippy's event loop (ED2, in its own thread) and asyncio.

sippy objects (transaction manager, UAs, timers) are touched only on the sippy thread: the asyncio side
calls `Reactor.call(fn, *args)`, which runs `fn` there. Results travel back with `Reactor.deliver`,
which runs a callback on the asyncio loop. Nothing else in the package crosses threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from sippy.Core.EventDispatcher import ED2

from legato.network.sip.fastpaths import install as install_fastpaths

log = logging.getLogger(__name__)
trace_log = logging.getLogger("legato.network.sip.trace")

_claim = threading.Lock()  # ED2 is a process-wide singleton: one reactor may run at a time


class TraceLog:
    """Replaces sippy's SipLogger: the SIP trace goes to the `legato.network.sip.trace` logger (DEBUG)."""

    def write(self, *args: Any, **kwargs: Any) -> None:
        """Log one trace entry (sippy passes the pieces of a message as positional args)."""
        if trace_log.isEnabledFor(logging.DEBUG):
            trace_log.debug("%s", "".join(str(arg) for arg in args))


class Reactor:
    """Runs ED2.loop() in a daemon thread; moves calls between it and the asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self, setup: Callable[[], None]) -> None:
        """Start the sippy thread, running `setup` on it first (e.g. bind the socket); re-raise its errors."""
        if not _claim.acquire(blocking=False):
            raise RuntimeError("a SIP network already runs in this process (sippy's ED2 is a singleton)")
        install_fastpaths()
        failure: list[BaseException] = []

        def run() -> None:
            ED2.my_ident = threading.get_ident()
            try:
                setup()
            except BaseException as exc:
                failure.append(exc)
                self._ready.set()
                return
            self._ready.set()
            try:
                ED2.loop()
            except Exception:
                log.exception("sippy event loop crashed")
            finally:
                _drop_timers()

        self._thread = threading.Thread(target=run, name="sippy-ed2", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if failure:
            self._thread.join(5)
            self._thread = None
            _claim.release()
            raise failure[0]

    def stop(self, teardown: Callable[[], None], timeout: float = 5.0) -> None:
        """Run `teardown` on the sippy thread, then end its loop and join it (blocks up to `timeout`)."""
        thread = self._thread
        if thread is None:
            return

        def finish() -> None:
            try:
                teardown()
            finally:
                ED2.breakLoop()

        ED2.callFromThread(finish)
        thread.join(timeout)
        self._thread = None
        _claim.release()
        if thread.is_alive():
            log.warning("sippy thread did not stop within %.1f s", timeout)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the sippy thread (from any thread)."""
        ED2.callFromThread(self._guard, fn, args)

    def deliver(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the asyncio loop (from the sippy thread); dropped when the loop is closed."""
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            log.debug("asyncio loop closed; dropped %r", fn)

    @staticmethod
    def _guard(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("error on the sippy thread in %r", fn)


def _drop_timers() -> None:
    """Forget timers left by UAs of a stopped network so they do not fire in a later loop."""
    for listener in list(ED2.tlisteners):
        listener.cb_func = None
    ED2.tlisteners = []
    ED2.twasted = 0
