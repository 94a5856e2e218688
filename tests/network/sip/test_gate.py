"""Only the trunks and the configured networks may start calls; others get a rate-limited 403 (SIPp from
other loopback addresses plays the stranger)."""

from __future__ import annotations

import asyncio
import ipaddress
import re

import pytest

from legato.network.sip import parse_config
from legato.network.sip.gate import SourceGate, trusted_networks
from tests.waiting import until

EXOPHONE = "+918047112233"
EXOPHONES = [{"number": EXOPHONE, "account_sid": "acct_test"}]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_trunk_addresses_and_networks_are_trusted() -> None:
    config = parse_config({"trunks": [{"name": "a", "proxy": "sip:carrier.example:5060"},
                                      {"name": "b", "proxy": "sip:[2001:db8::5]"}],
                           "inbound_networks": ["198.51.100.0/24", "192.0.2.7"]})
    gate = SourceGate(trusted_networks(config, resolve=lambda host: {"carrier.example": ["203.0.113.9"],
                                                                     "2001:db8::5": ["2001:db8::5"]}[host]))
    assert [gate.trusted(host) for host in ("203.0.113.9", "198.51.100.77", "192.0.2.7", "[2001:db8::5]")] == \
        [True, True, True, True]
    assert [gate.trusted(host) for host in ("203.0.113.10", "192.0.2.8", "127.0.0.1", "not-an-ip")] == \
        [False, False, False, False]


def test_refusals_per_source_are_rate_limited() -> None:
    clock = Clock()
    gate = SourceGate([], rate=2.0, burst=3, clock=clock)
    assert [gate.admit("192.0.2.1") for _ in range(5)] == [True, True, True, False, False]
    assert gate.admit("192.0.2.2")  # another source has its own budget
    clock.now = 0.5  # one more token for 192.0.2.1
    assert [gate.admit("192.0.2.1") for _ in range(2)] == [True, False]
    assert gate.figures() == {"refused": 5, "dropped": 3, "sources": 2}


def test_per_source_state_is_bounded() -> None:
    gate = SourceGate([], burst=1, max_sources=100, clock=Clock())
    for n in range(10_000):
        gate.admit(str(ipaddress.ip_address(n + 1)))
    assert gate.sources == 100
    assert not gate.admit("0.0.39.16")  # 10,000: the newest are remembered (its one 403 is spent)...
    assert gate.admit("0.0.0.1")  # ...the oldest forgotten (a fresh budget)


def test_config_check_names_a_bad_network(tmp_path) -> None:
    from legato.network.sip import check_config_file

    path = tmp_path / "legato.toml"
    path.write_text('[sip]\nlisten_port = 5060\ninbound_networks = ["10.0.0.0/8", "10.1.2.3/8"]\n')
    problems = check_config_file(path)
    assert len(problems) == 1 and ":3: sip.inbound_networks[1]:" in problems[0], problems
    assert problems[0].endswith("10.1.2.3/8 has host bits set")


# ---- with real SIP peers ---------------------------------------------------------------------------
async def sipp_done(peer, within: float = 10.0) -> int:
    return await asyncio.to_thread(peer.wait, within)


async def refusals(net, total: int, within: float = 10.0) -> dict[str, int]:
    """The gate's figures once `total` INVITEs were counted (refused or dropped)."""
    return await until(net.network.gate_figures, lambda figures: figures["refused"] + figures["dropped"] >= total,
                       seconds=within, what=f"{total} INVITEs refused or dropped")


def stranger(peers, net, host: str, calls: int = 1, extra: list[str] | None = None):
    return peers.invite(net.network.config.listen_port, EXOPHONE, host=host, calls=calls, extra=extra)


@pytest.mark.sip
async def test_invite_from_an_unlisted_address_gets_403_and_no_leg(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, trunks=[{"name": "carrier", "proxy": "sip:127.0.0.1:5999"}])
    net.decide = lambda call: None
    caller = stranger(peers, net, "127.0.0.2")
    assert await sipp_done(caller) == 0, caller.log()
    assert re.search(r"403 <-+\s+1\s", caller.log()), caller.log()
    assert net.inbound == []  # never offered: no leg, no webhook
    assert await refusals(net, 1) == {"refused": 1, "dropped": 0, "sources": 1, "server_transactions": 0}


@pytest.mark.sip
async def test_invite_from_the_trunks_address_is_offered(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, trunks=[{"name": "carrier", "proxy": "sip:127.0.0.3:5999"}])
    net.decide = lambda call: None  # refused by the application: 404
    caller = stranger(peers, net, "127.0.0.3")  # the trunk's address, any port
    assert await sipp_done(caller) == 0, caller.log()
    assert [call.called for call in net.inbound] == [EXOPHONE]
    assert net.network.gate_figures()["refused"] == 0


@pytest.mark.sip
async def test_flood_from_a_stranger_costs_no_state(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    total = 300
    flood = stranger(peers, net, "127.0.0.4", calls=total, extra=["-r", "300", "-l", "300", "-nr"])
    await sipp_done(flood, within=30)
    figures = await refusals(net, total)
    assert net.inbound == []
    assert figures["refused"] + figures["dropped"] == total  # each INVITE counted once, none offered
    assert figures["dropped"] > 0  # beyond the per-source rate: not even answered
    assert figures["sources"] == 1 and figures["server_transactions"] == 0
