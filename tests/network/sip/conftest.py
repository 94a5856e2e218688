"""SIP test fixtures: real peers started per test (checked gone after), a SipNetwork on the loop."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from legato.domain.machine import Input, MediaEvent, MediaStats
from legato.media.process import ManagedMedia
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
from tests.waiting import heard, until

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

    def phone(self, answermode: str = "auto", user: str = "phone", **options: Any) -> Peer:
        """baresip as a phone (auto or manual answer); options go to start_baresip (audio_file, dump_dir...)."""
        return self._keep(start_baresip(self.root / f"baresip-{len(self.started)}", user=user,
                                        answermode=answermode, **options))

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

    def invite(self, port: int, called: str, *, caller: str = CALLER, host: str = HOST, calls: int = 1,
               extra: list[str] | None = None) -> Peer:
        """SIPp on `host` sending INVITEs from `caller` to `called` at Legato (127.0.0.1:`port`), each expected
        to be refused (400, 403 or 404) and ACKed; without an answer a call ends after 1 s."""
        return self.sipp("invite_refused", host=host, calls=calls, remote=f"{HOST}:{port}",
                         extra=["-s", called, "-key", "caller", caller, *(extra or [])])

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
        """The call signals reported for one leg, in order (media reports left out: see `media_of`)."""
        return [signal for sid, signal in self.signals if sid == leg_sid
                and not isinstance(signal, MediaEvent | MediaStats)]

    def media_of(self, leg_sid: str) -> list[Input]:
        """The media reports (MediaEvent, MediaStats) for one leg, in order."""
        return [signal for sid, signal in self.signals if sid == leg_sid
                and isinstance(signal, MediaEvent | MediaStats)]

    async def wait_for(self, leg_sid: str, kind: type, within: float = 5.0) -> Any:
        """Wait until a signal of type `kind` arrived for the leg; return it."""
        return await heard(
            self._changed, lambda: next((s for sid, s in self.signals if sid == leg_sid and isinstance(s, kind)), None),
            seconds=within, what=lambda: f"a {kind.__name__} for {leg_sid} (has {self.of(leg_sid)})")

    async def wait_inbound(self, within: float = 5.0) -> InboundCall:
        """Wait for the inbound handler to be called."""
        return await heard(self._changed, lambda: self.inbound[-1] if self.inbound else None, seconds=within,
                           what="an inbound call")

    async def quiet(self, leg_sid: str, seconds: float = 0.5) -> list[Input]:
        """Wait `seconds` and return the leg's signals (to assert nothing more arrived)."""
        await asyncio.sleep(seconds)  # kept: a window of real time in which a real peer sends nothing more
        return self.of(leg_sid)

    def dial(self, leg_sid: str, destination: str, caller_id: str = CALLER, **options: Any) -> None:
        """Dial a sip: URI or an E.164 number."""
        kind = "sip" if destination.startswith("sip:") else "number"
        self.network.dial(DialRequest(leg_sid=leg_sid, account_sid="acct_test", destination=destination,
                                      destination_kind=kind, caller_id=caller_id, options=options))

    async def wait_ports_free(self, within: float = 3.0) -> None:
        """Wait until every leg's media was released (the engine holds no RTP port)."""
        async def held() -> int:
            return self.network.media_legs or await self.engine_legs()

        await until(held, lambda legs: legs == 0, seconds=within, what="every leg's media released")

    async def engine_legs(self) -> int:
        """How many legs the media engine holds now."""
        media = self.network.media_engine
        assert isinstance(media, ManagedMedia)
        return int((await media.call("ping"))["legs"])


NetworkFactory = Callable[..., "asyncio.Future[Harness]"]


@pytest.fixture
async def sip(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """`await sip(**config)`: a SipNetwork on 127.0.0.1 (free ports), stopped and checked after the test."""
    started: list[Harness] = []

    async def start(**overrides: Any) -> Harness:
        port, rtp = free_port(), free_port(count=40)
        config: dict[str, Any] = {"listen_host": HOST, "listen_port": port, "rtp_port_min": rtp,
                                  "rtp_port_max": rtp + 39, "no_reply_timeout": 2.0}
        config.update(overrides)
        parsed = parse_config(config)
        media = ManagedMedia(rtp_ports=(parsed.rtp_port_min, parsed.rtp_port_max), rtp_host=HOST,
                             advertise=parsed.contact_host, recordings_dir=tmp_path / "recordings",
                             cache_dir=tmp_path / "media-cache")
        harness = Harness(SipNetwork(parsed, media))
        await harness.network.start(harness.sink, harness.on_inbound)
        started.append(harness)
        return harness

    yield start
    for harness in started:
        pid = harness.network.media_engine.pid  # type: ignore[attr-defined]
        await harness.network.stop()
        assert harness.network.media_legs == 0, "media leaked"
        assert harness.network.live_legs == 0
        assert pid is not None and not _running(pid), "the media engine process survived"
    for harness in started:
        port = harness.network.config.listen_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, port))  # the SIP socket is closed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def trunk(kamailio: Peer, **fields: Any) -> dict[str, Any]:
    """A trunk table pointing at a Kamailio peer."""
    return {"name": "carrier", "proxy": f"sip:{HOST}:{kamailio.port}", **fields}
