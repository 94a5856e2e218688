"""Outbound legs against Kamailio (the carrier) and baresip (the phone)."""

from __future__ import annotations

import asyncio

import pytest

from legato.domain.leg import HangupSource
from legato.domain.machine import Answered, Ended, FailedToCreate, HangupSent, Ringing
from tests.network.sip.conftest import PASSWORD, trunk
from tests.network.sip.peers import BaresipControl

pytestmark = pytest.mark.sip


def at(peer, user: str) -> str:
    return f"sip:{user}@127.0.0.1:{peer.port}"


async def closed(control: BaresipControl, within: float = 3.0) -> dict:
    return await asyncio.to_thread(control.wait_event, "CALL_CLOSED", within)


# ---- baresip directly ------------------------------------------------------------------------
async def test_phone_answers_then_we_bye(peers, sip) -> None:
    phone = peers.phone()
    control = BaresipControl(phone.extra["ctrl"])
    net = await sip()
    net.dial("leg1", at(phone, "phone"))
    await net.wait_for("leg1", Answered)
    assert "baresip" in (net.network.answer_sdp("leg1") or "")
    assert net.network.rtp_port("leg1") is not None
    net.network.bye("leg1")
    await closed(control)
    await net.wait_for("leg1", HangupSent)
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered, HangupSent]
    await net.wait_ports_free()
    control.close()


async def test_phone_rings_and_we_cancel(peers, sip) -> None:
    phone = peers.phone(answermode="manual")
    control = BaresipControl(phone.extra["ctrl"])
    net = await sip()
    net.dial("leg1", at(phone, "phone"))
    ringing = await net.wait_for("leg1", Ringing)
    assert ringing.early_media is False
    net.network.cancel("leg1")
    await closed(control)
    assert await net.quiet("leg1", 0.3) == [ringing, HangupSent()]
    await net.wait_ports_free()
    control.close()


async def test_phone_answers_late_and_hangs_up(peers, sip) -> None:
    phone = peers.phone(answermode="manual")
    control = BaresipControl(phone.extra["ctrl"])
    net = await sip()
    net.dial("leg1", at(phone, "phone"))
    await net.wait_for("leg1", Ringing)
    await asyncio.to_thread(control.wait_event, "CALL_INCOMING")
    control.command("accept")
    await net.wait_for("leg1", Answered)
    await asyncio.to_thread(control.wait_event, "CALL_ESTABLISHED")  # our ACK reached the phone
    control.command("hangup")
    ended = await net.wait_for("leg1", Ended)
    assert (ended.source, ended.q850) == (HangupSource.CALLEE, 16)
    await net.wait_ports_free()
    control.close()


# ---- through Kamailio ------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "sip_code", "q850", "reason"), [
    ("u486", 486, 17, "Busy Here"),
    ("u404", 404, 1, "Not Found"),
    ("u503", 503, 34, "Service Unavailable"),  # Reason: Q.850;cause=34 beats the table's 41
])
async def test_carrier_rejects(peers, sip, user: str, sip_code: int, q850: int, reason: str) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip()
    net.dial("leg1", at(carrier, user))
    ended = await net.wait_for("leg1", Ended)
    assert (ended.sip_code, ended.q850, ended.reason, ended.source) == (sip_code, q850, reason,
                                                                        HangupSource.CALLEE)
    await net.wait_ports_free()


async def test_carrier_rings_forever_then_cancel(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip()
    net.dial("leg1", at(carrier, "u180"))
    await net.wait_for("leg1", Ringing)
    net.network.cancel("leg1")  # Kamailio answers the INVITE 487; only our CANCEL going out is reported
    assert [type(s) for s in await net.quiet("leg1", 0.5)] == [Ringing, HangupSent]
    await net.wait_ports_free()


async def test_carrier_proxy_timeout_408(peers, sip, blackhole) -> None:
    carrier = peers.carrier(peers.phone(), blackhole=blackhole)
    net = await sip()
    net.dial("leg1", at(carrier, "u408"))
    ended = await net.wait_for("leg1", Ended, within=4)
    assert (ended.sip_code, ended.q850) == (408, 102)


async def test_carrier_early_media_then_answer(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip()
    net.dial("leg1", at(carrier, "u183"))
    ringing = await net.wait_for("leg1", Ringing)
    assert ringing.early_media is True
    await net.wait_for("leg1", Answered)
    assert "baresip" in (net.network.answer_sdp("leg1") or "")
    net.network.bye("leg1")
    await net.wait_ports_free()


async def test_record_route_far_end_bye_and_ours(peers, sip) -> None:
    phone = peers.phone(answermode="manual")
    control = BaresipControl(phone.extra["ctrl"])
    carrier = peers.carrier(peers.phone(), manual=phone)
    net = await sip()
    # our BYE must follow the Record-Route through Kamailio to the phone
    net.dial("leg1", at(carrier, "u555"))
    await asyncio.to_thread(control.wait_event, "CALL_INCOMING")
    control.command("accept")
    await net.wait_for("leg1", Answered)
    net.network.bye("leg1")
    await closed(control)
    # the phone's BYE comes back to us through Kamailio
    net.dial("leg2", at(carrier, "u555"))
    await asyncio.to_thread(control.wait_event, "CALL_INCOMING")
    control.command("accept")
    await net.wait_for("leg2", Answered)
    control.command("hangup")
    ended = await net.wait_for("leg2", Ended)
    assert (ended.source, ended.q850) == (HangupSource.CALLEE, 16)
    await net.wait_ports_free()
    control.close()


async def test_digest_auth_with_trunk_credentials(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip(trunks=[trunk(carrier, username="legato", password=PASSWORD, number_format="national")],
                    default_trunk="carrier")
    net.dial("leg1", "+919876500401")  # national: 09876500401, the carrier's auth rule
    await net.wait_for("leg1", Answered)
    net.network.bye("leg1")
    await net.wait_ports_free()


async def test_digest_auth_wrong_password_fails(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip(trunks=[trunk(carrier, username="legato", password="wrong")], default_trunk="carrier")
    net.dial("leg1", "+919876500401")
    ended = await net.wait_for("leg1", Ended)
    assert (ended.sip_code, ended.q850) == (407, 21)


async def test_number_goes_to_exophone_trunk(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())
    net = await sip(trunks=[trunk(carrier, number_format="e164")],
                    exophones=[{"number": "+919163816621", "account_sid": "acct_test", "trunk": "carrier"}])
    net.dial("leg1", "+919876500486")
    ended = await net.wait_for("leg1", Ended)
    assert ended.sip_code == 486


async def test_exophone_written_nationally_finds_its_trunk(peers, sip) -> None:
    carrier = peers.carrier(peers.phone())  # no default trunk: only the exophone's trunk reaches the carrier
    net = await sip(trunks=[trunk(carrier, number_format="e164")],
                    exophones=[{"number": "+918030752450", "account_sid": "acct_test", "trunk": "carrier"}])
    net.dial("leg1", "+919876500486", caller_id="08030752450")
    ended = await net.wait_for("leg1", Ended)
    assert ended.sip_code == 486


async def test_number_without_trunk_fails_to_create(sip) -> None:
    net = await sip()
    net.dial("leg1", "+919876500486")
    failed = await net.wait_for("leg1", FailedToCreate)
    assert "no trunk" in failed.message
    assert net.network.media_legs == 0
