"""Blind transfer at the SIP network level: Legato REFERs an answered call's far end to a third party.

A baresip phone takes the transfer (it calls the target, reports through NOTIFY sipfrag, the target's phone
rings and answers); a SIPp far end refuses the REFER with 603 and the call stays up."""

from __future__ import annotations

import asyncio

import pytest

from legato.domain.machine import Answered, Ended, Ringing, TransferUpdate
from legato.network.base import DialRequest
from legato.network.sip.refer import sipfrag_status
from tests.network.sip.conftest import CALLER, Harness, Peers
from tests.network.sip.peers import BaresipControl

pytestmark = [pytest.mark.sip]
EXOPHONES = [{"number": "+918047112233", "account_sid": "acct_test"}]


def target(uri: str) -> DialRequest:
    return DialRequest(
        leg_sid="x", account_sid="acct_test", destination=uri, destination_kind="sip", caller_id="+918030752400"
    )


def test_sipfrag_status_line() -> None:
    assert sipfrag_status("SIP/2.0 200 OK\r\n") == (200, "OK")
    assert sipfrag_status("SIP/2.0 486 Busy Here") == (486, "Busy Here")
    assert sipfrag_status("hello") is None


async def test_baresip_takes_a_blind_transfer(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    alice = peers.phone(user="alice")
    carol = peers.phone(user="carol")
    net: Harness = await asyncio.wait_for(sip(), 20)
    control = BaresipControl(carol.extra["ctrl"])
    try:
        net.dial("leg-a", f"sip:alice@127.0.0.1:{alice.port}")
        await net.wait_for("leg-a", Answered)
        net.network.refer("leg-a", target(f"sip:carol@127.0.0.1:{carol.port}"))
        update = await net.wait_for("leg-a", TransferUpdate, within=10)
        assert (update.outcome, update.sip_code) == ("completed", 200)
        control.wait_event("CALL_ESTABLISHED", timeout=10)  # alice now talks to carol
        net.network.bye("leg-a")  # what the leg machine does on `completed`
        control.command("hangup")
        control.wait_event("CALL_CLOSED", timeout=10)
    finally:
        control.close()
    assert [type(s) for s in net.of("leg-a")] == [Ringing, Answered, TransferUpdate]  # no BYE from alice first
    await net.wait_ports_free()


async def test_a_refused_refer_leaves_the_call_up(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    far = peers.sipp("refer_refused")
    net: Harness = await asyncio.wait_for(sip(), 20)
    net.dial("leg-r", f"sip:uas@127.0.0.1:{far.port}")
    await net.wait_for("leg-r", Answered)
    net.network.refer("leg-r", target("sip:carol@127.0.0.1:5999"))
    update = await net.wait_for("leg-r", TransferUpdate, within=10)
    assert (update.outcome, update.sip_code) == ("failed", 603)
    assert not any(isinstance(s, Ended) for s in await net.quiet("leg-r", 0.3))  # still up
    net.network.bye("leg-r")
    assert far.wait(10) == 0, far.log()
    await net.wait_ports_free()


async def test_a_transfer_to_a_busy_target_fails_and_the_call_stays(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    alice = peers.phone(user="alice")
    busy = peers.sipp("busy", timeout=30)
    net: Harness = await asyncio.wait_for(sip(), 20)
    net.dial("leg-b", f"sip:alice@127.0.0.1:{alice.port}")
    await net.wait_for("leg-b", Answered)
    net.network.refer("leg-b", target(f"sip:busy@127.0.0.1:{busy.port}"))
    update = await net.wait_for("leg-b", TransferUpdate, within=10)
    assert (update.outcome, update.sip_code) == ("failed", 486)  # alice's NOTIFY: SIP/2.0 486 Busy Here
    assert busy.wait(10) == 0, busy.log()
    assert not any(isinstance(s, Ended) for s in await net.quiet("leg-b", 0.5))  # alice is still on the call
    net.network.bye("leg-b")
    await net.wait_ports_free()


async def test_an_inbound_caller_is_transferred(peers: Peers, sip) -> None:  # type: ignore[no-untyped-def]
    caller = peers.phone(user=CALLER)
    carol = peers.phone(user="carol")
    net: Harness = await asyncio.wait_for(sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"]), 20)
    net.decide = lambda call: "leg-in"
    controls = [BaresipControl(caller.extra["ctrl"]), BaresipControl(carol.extra["ctrl"])]
    try:
        controls[0].command("dial", f"sip:{EXOPHONES[0]['number']}@127.0.0.1:{net.network.config.listen_port}")
        await net.wait_inbound()
        await asyncio.to_thread(controls[0].wait_event, "CALL_RINGING", 5)
        net.network.answer("leg-in")
        await asyncio.to_thread(controls[0].wait_event, "CALL_ESTABLISHED", 5)
        net.network.refer("leg-in", target(f"sip:carol@127.0.0.1:{carol.port}"))
        update = await net.wait_for("leg-in", TransferUpdate, within=10)
        assert (update.outcome, update.sip_code) == ("completed", 200)
        await asyncio.to_thread(controls[1].wait_event, "CALL_ESTABLISHED", 10)  # the caller now talks to carol
        net.network.bye("leg-in")
        controls[1].command("hangup")
        await asyncio.to_thread(controls[1].wait_event, "CALL_CLOSED", 10)
    finally:
        for control in controls:
            control.close()
    await net.wait_ports_free()
