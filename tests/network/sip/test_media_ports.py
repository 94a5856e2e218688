"""Media ports on the SIP network: one port pair in the range, so the second leg finds none until the
first one ends; failures and ends give the ports back."""

from __future__ import annotations

import asyncio

import pytest

from legato.domain.machine import Answered, Ended, FailedToCreate, MediaStats
from tests.network.sip.conftest import Peers
from tests.network.sip.peers import free_port

pytestmark = [pytest.mark.sip, pytest.mark.media]


async def test_exhausted_ports_fail_the_leg_and_come_back_after_the_end(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    phone = peers.phone()
    base = free_port(count=4)
    rtp = base + base % 2  # an even port with its odd neighbour free
    net = await sip(rtp_port_min=rtp, rtp_port_max=rtp + 1)  # one RTP/RTCP pair
    uri = f"sip:phone@127.0.0.1:{phone.port}"
    net.dial("leg1", uri)
    await net.wait_for("leg1", Answered)
    net.dial("leg2", uri)
    failed = await net.wait_for("leg2", FailedToCreate)
    assert failed.q850 == 42 and "no free RTP port" in failed.message
    await asyncio.sleep(0.5)  # kept: the phone's RTP comes in real time; half a second of it to count
    net.network.bye("leg1")
    stats = await net.wait_for("leg1", MediaStats)
    assert stats.stats["packets_received"] > 0
    await net.wait_ports_free()
    net.dial("leg3", uri)
    await net.wait_for("leg3", Answered)
    net.network.bye("leg3")
    await net.wait_ports_free()


async def test_failed_call_releases_its_media(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    net = await sip()
    net.dial("leg1", "sip:nobody@127.0.0.1:9")  # nothing answers: 408 after no_reply_timeout
    await net.wait_for("leg1", Ended, within=10)
    await net.wait_ports_free()
