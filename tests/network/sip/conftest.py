"""SIP test fixtures: real peers started per test (checked gone after), a SipNetwork on the loop."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from legato.domain.machine import Input
from legato.network.base import DialRequest, InboundCall
from legato.network.sip import SipNetwork, parse_config
from tests.network.sip.peers import (
    HOST,
    Peer,
    free_port,
    start_baresip,
    start_kamailio,
    start_sipp,
)

CALLER = "+919163816621"
PASSWORD = "s3cret"

_missing = [tool for tool in ("kamailio", "baresip", "sipp") if shutil.which(tool) is None
            and not Path(f"/usr/sbin/{tool}").exists()]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if _missing:
        skip = pytest.mark.skip(reason=f"SIP peers not installed: {', '.join(_missing)}")
        for item in items:
            if "sip" in item.keywords:
                item.add_marker(skip)


class Peers:
    """Starts peers for one test and stops every one of them (by PID) at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.started: list[Peer] = []

    def _keep(self, peer: Peer) -> Peer:
        self.started.append(peer)
        return peer

    def phone(self, answermode: str = "auto", user: str = "phone") -> Peer:
        """baresip as a phone (auto or manual answer)."""
        return self._keep(start_baresip(self.root / f"baresip-{len(self.started)}", user=user,
                                        answermode=answermode))

    def carrier(self, phone: Peer, manual: Peer | None = None, blackhole: int | None = None,
                hangup: Peer | None = None) -> Peer:
        """Kamailio forwarding to `phone` (`manual` for users ending 555, `hangup` for those ending 0007)."""
        return self._keep(start_kamailio(self.root / f"kamailio-{len(self.started)}", phone_port=phone.port,
                                         manual_port=manual.port if manual else None,
                                         blackhole_port=blackhole, password=PASSWORD,
                                         hangup_port=hangup.port if hangup else None))

    def sipp(self, scenario: str, **kwargs: Any) -> Peer:
        """SIPp running `scenarios/<scenario>.xml` as a UAS for one call."""
        return self._keep(start_sipp(self.root / f"sipp-{len(self.started)}", scenario, **kwargs))

    def stop_all(self) -> list[str]:
        """Stop every peer; return the names of those whose process group survived."""
        survivors = []
        for peer in reversed(self.started):
            peer.stop()
            if not peer.group_gone():
                survivors.append(f"{peer.name} (pid {peer.pid})")
        return survivors


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    """Per-test peers; afterwards every peer's process group must be gone."""
    registry = Peers(tmp_path)
    yield registry
    survivors = registry.stop_all()
    assert not survivors, f"peers still running after the test: {survivors}"


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A bound UDP port that never answers (the far side of a proxy timeout)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((HOST, 0))
    yield sock.getsockname()[1]
    sock.close()


class Harness:
    """A started SipNetwork with the signals it reported, and helpers to wait for them."""

    def __init__(self, network: SipNetwork) -> None:
        self.network = network
        self.signals: list[tuple[str, Input]] = []
        self.inbound: list[InboundCall] = []
        self.decide: Callable[[InboundCall], str | None] = lambda call: None
        self._changed = asyncio.Event()

    def sink(self, leg_sid: str, signal: Input) -> None:
        self.signals.append((leg_sid, signal))
        self._changed.set()

    def on_inbound(self, call: InboundCall) -> str | None:
        self.inbound.append(call)
        self._changed.set()
        return self.decide(call)

    def of(self, leg_sid: str) -> list[Input]:
        """The signals reported for one leg, in order."""
        return [signal for sid, signal in self.signals if sid == leg_sid]

    async def wait_for(self, leg_sid: str, kind: type, within: float = 5.0) -> Any:
        """Wait until a signal of type `kind` arrived for the leg; return it."""
        deadline = time.monotonic() + within
        while True:
            for signal in self.of(leg_sid):
                if isinstance(signal, kind):
                    return signal
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {kind.__name__} for {leg_sid} in {within} s: {self.of(leg_sid)}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_inbound(self, within: float = 5.0) -> InboundCall:
        """Wait for the inbound handler to be called."""
        deadline = time.monotonic() + within
        while not self.inbound:
            if time.monotonic() > deadline:
                raise AssertionError("no inbound call")
            await asyncio.sleep(0.02)
        return self.inbound[-1]

    async def quiet(self, leg_sid: str, seconds: float = 0.5) -> list[Input]:
        """Wait `seconds` and return the leg's signals (to assert nothing more arrived)."""
        await asyncio.sleep(seconds)
        return self.of(leg_sid)

    def dial(self, leg_sid: str, destination: str, caller_id: str = CALLER, **options: Any) -> None:
        """Dial a sip: URI or an E.164 number."""
        kind = "sip" if destination.startswith("sip:") else "number"
        self.network.dial(DialRequest(leg_sid=leg_sid, account_sid="acct_test", destination=destination,
                                      destination_kind=kind, caller_id=caller_id, options=options))

    async def wait_ports_free(self, within: float = 3.0) -> None:
        """Wait until every RTP port went back to the pool."""
        deadline = time.monotonic() + within
        while self.network.ports.in_use:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.network.ports.in_use} RTP ports still in use")
            await asyncio.sleep(0.02)


NetworkFactory = Callable[..., "asyncio.Future[Harness]"]


@pytest.fixture
async def sip() -> AsyncIterator[Callable[..., Any]]:
    """`await sip(**config)`: a SipNetwork on 127.0.0.1 (free ports), stopped and checked after the test."""
    started: list[Harness] = []

    async def start(**overrides: Any) -> Harness:
        port, rtp = free_port(), free_port(count=40)
        config: dict[str, Any] = {"listen_host": HOST, "listen_port": port, "rtp_port_min": rtp,
                                  "rtp_port_max": rtp + 39, "no_reply_timeout": 2.0}
        config.update(overrides)
        harness = Harness(SipNetwork(parse_config(config)))
        await harness.network.start(harness.sink, harness.on_inbound)
        started.append(harness)
        return harness

    yield start
    for harness in started:
        await harness.network.stop()
        assert harness.network.ports.in_use == 0, "RTP ports leaked"
        assert harness.network.live_legs == 0
    for harness in started:
        port = harness.network.config.listen_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, port))  # the SIP socket is closed


def trunk(kamailio: Peer, **fields: Any) -> dict[str, Any]:
    """A trunk table pointing at a Kamailio peer."""
    return {"name": "carrier", "proxy": f"sip:{HOST}:{kamailio.port}", **fields}
