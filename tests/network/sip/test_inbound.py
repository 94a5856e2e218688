"""Inbound legs: baresip (driven over ctrl_tcp) calls Legato's exophones."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest

from legato.domain.errors import Draining
from legato.domain.leg import HangupSource
from legato.domain.machine import Ended, HangupSent
from tests.network.sip.conftest import CALLER
from tests.network.sip.peers import BaresipControl
from tests.waiting import until

pytestmark = pytest.mark.sip

EXOPHONE = "+918047112233"
OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
EXOPHONES = [{"number": EXOPHONE, "account_sid": "acct_test"},
             {"number": "sip:support@legato.example", "account_sid": "acct_sip"}]


async def event(control: BaresipControl, kind: str, within: float = 3.0) -> dict:
    return await asyncio.to_thread(control.wait_event, kind, within)


async def caller_and_network(peers, sip):
    phone = peers.phone(answermode="manual", user=CALLER)
    control = BaresipControl(phone.extra["ctrl"])
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])  # baresip calls from there
    net.decide = lambda call: "leg-in"
    return control, net


def dial(control: BaresipControl, net, user: str) -> None:
    control.command("dial", f"sip:{user}@127.0.0.1:{net.network.config.listen_port}")


async def test_inbound_rings_answers_and_caller_hangs_up(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, "08047112233")  # national form of the exophone
    call = await net.wait_inbound()
    assert call.called == EXOPHONE
    assert call.caller == CALLER
    await event(control, "CALL_RINGING")
    assert net.network.remote_sdp("leg-in") is not None
    net.network.answer("leg-in")
    await event(control, "CALL_ESTABLISHED")
    assert "m=audio" in (net.network.answer_sdp("leg-in") or "")
    control.command("hangup")
    ended = await net.wait_for("leg-in", Ended)
    assert (ended.source, ended.q850) == (HangupSource.CALLER, 16)
    await net.wait_ports_free()
    control.close()


async def test_inbound_answered_then_we_bye(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, EXOPHONE.lstrip("+"))
    await event(control, "CALL_RINGING")
    net.network.answer("leg-in")
    await event(control, "CALL_ESTABLISHED")
    net.network.bye("leg-in")
    await event(control, "CALL_CLOSED")
    assert await net.quiet("leg-in", 0.2) == [HangupSent()]
    await net.wait_ports_free()
    control.close()


@pytest.mark.parametrize(("code", "text"), [(486, "Busy Here"), (603, "Decline"), (480, "Temporarily")])
async def test_inbound_rejected(peers, sip, code: int, text: str) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, EXOPHONE)
    await event(control, "CALL_RINGING")
    net.network.reject("leg-in", code)
    closed = await event(control, "CALL_CLOSED")
    assert str(code) in str(closed.get("param")) and text in str(closed.get("param"))
    await net.wait_ports_free()
    control.close()


async def test_inbound_caller_cancels(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, EXOPHONE)
    await event(control, "CALL_RINGING")
    control.command("hangup")
    ended = await net.wait_for("leg-in", Ended)
    assert (ended.source, ended.sip_code) == (HangupSource.CALLER, 487)
    await net.wait_ports_free()
    control.close()


async def test_unknown_number_gets_404_without_asking(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, "+918000000000")
    closed = await event(control, "CALL_CLOSED")
    assert "404" in str(closed.get("param"))
    assert net.inbound == []
    control.close()


async def test_refused_by_handler_gets_404(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    net.decide = lambda call: None
    dial(control, net, EXOPHONE)
    closed = await event(control, "CALL_CLOSED")
    assert "404" in str(closed.get("param"))
    assert len(net.inbound) == 1
    await net.wait_ports_free()
    control.close()


async def test_sip_uri_exophone(peers, sip) -> None:
    control, net = await caller_and_network(peers, sip)
    dial(control, net, "support")
    call = await net.wait_inbound()
    assert call.called == "sip:support@legato.example"
    assert net.network.account_sid_for(call.called) == "acct_sip"
    await event(control, "CALL_RINGING")
    net.network.reject("leg-in", 486)
    await event(control, "CALL_CLOSED")
    control.close()


async def test_nul_in_from_is_refused_with_400_before_any_leg(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    caller = peers.invite(net.network.config.listen_port, EXOPHONE, caller="%00evil")  # decoded: "\0evil"
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()
    assert re.search(r"400 <-+\s+1\s", caller.log()), caller.log()
    assert net.inbound == []


async def test_raw_nul_byte_is_refused_with_400_naming_the_header(sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # SIPp cannot put a NUL byte on the wire
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:{EXOPHONE}@127.0.0.1 SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-nul-1\r\n"
                  f"From: \"a\0b\" <sip:+919163816621@127.0.0.1:{port}>;tag=1\r\n"
                  f"To: <sip:{EXOPHONE}@127.0.0.1>\r\nCall-ID: nul-1\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:caller@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n{OFFER}")
        sock.sendto(invite.encode(), ("127.0.0.1", net.network.config.listen_port))
        reply = (await asyncio.to_thread(sock.recv, 4096)).decode()
    assert reply.startswith("SIP/2.0 400 Bad Request - NUL in From\r\n"), reply
    assert net.inbound == []


async def test_caller_with_transport_in_upper_case_gets_our_bye(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    port = net.network.config.listen_port
    caller = peers.sipp("caller_transport_upper_case", remote=f"127.0.0.1:{port}", extra=["-s", EXOPHONE])
    await net.wait_inbound()
    net.network.answer("leg-in")
    # the 200 is on its way once our SDP answer exists (made on the sippy thread); the BYE follows it in order
    await until(lambda: net.network.answer_sdp("leg-in"), seconds=5, what="our SDP answer")
    net.network.bye("leg-in")
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()  # the BYE reached the caller's Contact
    await net.wait_ports_free()


async def test_invite_while_draining_gets_503_with_retry_after(sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])

    def draining(call: object) -> str | None:
        raise Draining("this server is draining", retry_after=30)

    net.decide = draining
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:{EXOPHONE}@127.0.0.1 SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-drain-1\r\n"
                  f"From: <sip:+919163816621@127.0.0.1:{port}>;tag=1\r\n"
                  f"To: <sip:{EXOPHONE}@127.0.0.1>\r\nCall-ID: drain-1\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:caller@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n{OFFER}")
        sock.sendto(invite.encode(), ("127.0.0.1", net.network.config.listen_port))
        reply = ""
        while not re.match(r"SIP/2\.0 [2-6]\d\d ", reply):  # skip 100 Trying
            reply = (await asyncio.to_thread(sock.recv, 4096)).decode()
    assert reply.startswith("SIP/2.0 503 Service Unavailable\r\n"), reply
    assert re.search(r"^Retry-After: 30\r$", reply, re.M | re.I), reply
    assert len(net.inbound) == 1 and net.signals == []  # asked once, no leg, nothing reported


@pytest.mark.parametrize(("scenario", "extra"), [
    ("invite_codec_488", ["-key", "formats", "18", "-key", "rtpmap", "18 G729/8000"]),
    ("invite_codec_488", ["-key", "formats", "9", "-key", "rtpmap", "9 G722/8000"]),
    ("invite_no_sdp_488", []),
])
async def test_invite_without_usable_offer_gets_488_before_any_leg(peers, sip, scenario: str,
                                                                   extra: list[str]) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    port = net.network.config.listen_port
    caller = peers.sipp(scenario, remote=f"127.0.0.1:{port}", extra=["-s", EXOPHONE, *extra])
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()
    assert net.inbound == []


async def test_invite_without_contact_gets_400_and_leaves_no_dialog(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    port = net.network.config.listen_port
    caller = peers.sipp("invite_no_contact_400", remote=f"127.0.0.1:{port}", extra=["-s", EXOPHONE])
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()  # 400, not 500
    assert net.inbound == []


@pytest.mark.parametrize(("change", "why"), [
    (lambda m: re.sub(r"Call-ID: [^\r]*\r\n", "", m), "Missing Call-ID"),
    (lambda m: re.sub(r"CSeq: [^\r]*\r\n", "", m), "Missing CSeq"),
    (lambda m: re.sub(r"To: [^\r]*\r\n", "", m), "Missing To"),
    (lambda m: m.replace("CSeq: 1 INVITE", "CSeq: one INVITE"), "Bad CSeq"),
    (lambda m: m.replace(f"Content-Length: {len(OFFER)}", "Content-Length: 9999"), "Bad Content-Length"),
])
async def test_malformed_invite_gets_400_saying_why(sip, change, why: str) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # SIPp always writes these headers
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        port = sock.getsockname()[1]
        invite = (f"INVITE sip:{EXOPHONE}@127.0.0.1 SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bad-1\r\n"
                  f"From: <sip:+919163816621@127.0.0.1:{port}>;tag=1\r\n"
                  f"To: <sip:{EXOPHONE}@127.0.0.1>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\n"
                  f"Contact: <sip:caller@127.0.0.1:{port}>\r\nMax-Forwards: 70\r\n"
                  f"Content-Type: application/sdp\r\nContent-Length: {len(OFFER)}\r\n\r\n{OFFER}")
        sock.sendto(change(invite).encode(), ("127.0.0.1", net.network.config.listen_port))
        reply = (await asyncio.to_thread(sock.recv, 4096)).decode()
    assert reply.startswith(f"SIP/2.0 400 Bad Request - {why}\r\n"), reply
    assert f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bad-1\r\n" in reply
    assert net.inbound == [] and net.signals == []


@pytest.mark.parametrize("scenario", ["caller_holds", "caller_refreshes"])  # a=inactive; the same SDP again
async def test_caller_reinvite_is_answered_with_our_sdp_and_the_leg_stays_up(peers, sip, scenario: str) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    port = net.network.config.listen_port
    caller = peers.sipp(scenario, remote=f"127.0.0.1:{port}", extra=["-s", EXOPHONE])
    await net.wait_inbound()
    net.network.answer("leg-in")
    ended = await net.wait_for("leg-in", Ended, within=8)  # its BYE, after our 200 to its re-INVITE
    assert (ended.source, ended.q850, ended.reason) == (HangupSource.CALLER, 16, "BYE")
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()
    await net.wait_ports_free()


async def test_update_in_an_answered_call_gets_501_and_the_call_goes_on(peers, sip) -> None:
    net = await sip(exophones=EXOPHONES, inbound_networks=["127.0.0.1"])
    net.decide = lambda call: "leg-in"
    port = net.network.config.listen_port
    caller = peers.sipp("caller_update", remote=f"127.0.0.1:{port}", extra=["-s", EXOPHONE])
    await net.wait_inbound()
    net.network.answer("leg-in")
    ended = await net.wait_for("leg-in", Ended, within=8)  # its own BYE (SIPp aborting would BYE too: see below)
    assert (ended.source, ended.reason) == (HangupSource.CALLER, "BYE")
    assert await asyncio.to_thread(caller.wait, 10) == 0, caller.log()  # the 501 came, not silence then 500
    await net.wait_ports_free()
