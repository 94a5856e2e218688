"""Edge cases scripted with SIPp: reordering, far-end BYE, 200 crossing CANCEL, retransmissions, silence."""

from __future__ import annotations

import asyncio
import re

import pytest

from legato.domain.leg import HangupSource
from legato.domain.machine import Answered, Ended, HangupFailed, HangupSent, Ringing
from tests.waiting import until

pytestmark = pytest.mark.sip


def uri(peer, user: str = "sipp") -> str:
    return f"sip:{user}@127.0.0.1:{peer.port}"


async def sipp_done(peer, within: float = 5.0) -> int:
    """Wait for SIPp to finish its one call; its exit code (0: the scenario ran to the end)."""
    return await asyncio.to_thread(peer.wait, within)


async def test_answer_before_ringing_stays_answered(peers, sip) -> None:
    uas = peers.sipp("answer_before_ringing")
    net = await sip()
    net.dial("leg1", uri(uas))
    await net.wait_for("leg1", Answered)
    assert [type(s) for s in await net.quiet("leg1", 0.3)] == [Answered]  # the late 180 is swallowed
    assert "m=audio" in (net.network.answer_sdp("leg1") or "")
    net.network.bye("leg1")
    assert await sipp_done(uas) == 0, uas.log()
    await net.wait_ports_free()


async def test_far_end_bye_right_after_answer(peers, sip) -> None:
    uas = peers.sipp("bye_after_answer")
    net = await sip()
    net.dial("leg1", uri(uas))
    ended = await net.wait_for("leg1", Ended)
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered, Ended]
    assert ended.source is HangupSource.CALLEE
    assert ended.q850 == 16
    assert ended.sip_code is None
    assert await sipp_done(uas) == 0, uas.log()
    await net.wait_ports_free()


async def test_answer_crossing_cancel_is_acked_and_byed(peers, sip) -> None:
    uas = peers.sipp("answer_crosses_cancel")
    net = await sip()
    net.dial("leg1", uri(uas))
    await net.wait_for("leg1", Ringing)
    net.network.cancel("leg1")
    assert await sipp_done(uas) == 0, uas.log()  # SIPp got the ACK and the BYE
    await net.wait_for("leg1", HangupSent)
    assert [type(s) for s in net.of("leg1")] == [Ringing, HangupSent]  # only that our CANCEL went out
    await net.wait_ports_free()


async def test_retransmitted_200_is_one_answer(peers, sip) -> None:
    uas = peers.sipp("retransmitted_200")
    net = await sip()
    net.dial("leg1", uri(uas))
    await net.wait_for("leg1", Answered)
    await asyncio.sleep(0.3)  # kept: SIPp's scenario retransmits its 200 after a pause; the BYE must come after it
    net.network.bye("leg1")
    assert await sipp_done(uas) == 0, uas.log()
    assert re.search(r"-> ACK\s+1\s+1\s", uas.log()), uas.log()  # both 200s ACKed (one counted as retrans)
    await net.wait_for("leg1", HangupSent)
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered, HangupSent]


async def test_no_response_at_all_ends_408(peers, sip) -> None:
    uas = peers.sipp("silent")
    net = await sip(no_reply_timeout=1.0)
    net.dial("leg1", uri(uas))
    ended = await net.wait_for("leg1", Ended, within=4)
    assert (ended.sip_code, ended.q850, ended.source) == (408, 102, HangupSource.PLATFORM)
    await net.wait_ports_free()


async def test_cancel_without_any_response_reports_only_that_it_was_sent(peers, sip) -> None:
    uas = peers.sipp("silent")
    net = await sip(no_reply_timeout=1.0)
    net.dial("leg1", uri(uas))
    await asyncio.sleep(0.3)  # kept: the INVITE has gone out (the silent peer reports nothing to wait for)
    net.network.cancel("leg1")
    assert await net.quiet("leg1", 1.5) == [HangupSent()]
    await net.wait_ports_free()


async def test_transport_in_upper_case_still_gets_our_bye(peers, sip) -> None:
    uas = peers.sipp("contact_transport", extra=["-key", "contact_transport", "UDP"])
    net = await sip()
    net.dial("leg1", uri(uas))
    await net.wait_for("leg1", Answered)
    net.network.bye("leg1")
    assert await sipp_done(uas) == 0, uas.log()  # the BYE reached the far end through its route set
    await net.wait_ports_free()


async def test_a_bye_that_cannot_be_sent_is_retried_then_reported(peers, sip) -> None:
    uas = peers.sipp("contact_transport", extra=["-key", "contact_transport", "tcp"])  # we only speak UDP
    net = await sip()
    net.dial("leg1", uri(uas))
    await net.wait_for("leg1", Answered)
    net.network.bye("leg1")
    failed = await net.wait_for("leg1", HangupFailed, within=8)
    assert failed.message.startswith("the BYE could not be sent after 4 tries"), failed.message
    assert [type(s) for s in net.of("leg1")] == [Answered, HangupFailed]
    await net.wait_ports_free()



async def test_far_end_hold_and_unhold_reinvites_are_answered_and_the_leg_stays_up(peers, sip) -> None:
    uas = peers.sipp("reinvite_hold")  # checks our 200s: recvonly to its sendonly, then sendrecv
    net = await sip()
    net.dial("leg1", uri(uas))
    answered = await net.wait_for("leg1", Answered)
    port = int(re.search(r"m=audio (\d+)", answered.sdp).group(1))
    moved = f"m=audio {port + 2} "  # the unhold's offer moves its audio two ports up
    await until(lambda: net.network.remote_sdp("leg1") or "", lambda sdp: moved in sdp, seconds=5,
                what="the leg's audio pointed at the unhold's address")
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered]  # up all along
    net.network.bye("leg1")
    assert await sipp_done(uas) == 0, uas.log()
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered, HangupSent]
    await net.wait_ports_free()


@pytest.mark.parametrize("codec", [("18", "18 G729/8000"), ("9", "9 G722/8000")])
async def test_answer_without_g711_audio_is_acked_then_byed(peers, sip, codec: tuple[str, str]) -> None:
    uas = peers.sipp("answer_codec", extra=["-key", "formats", codec[0], "-key", "rtpmap", codec[1]])
    net = await sip()
    net.dial("leg1", uri(uas))
    ended = await net.wait_for("leg1", Ended)
    assert [type(s) for s in net.of("leg1")] == [Ringing, Answered, Ended]
    assert (ended.source, ended.q850, ended.sip_code) == (HangupSource.PLATFORM, 65, None)
    assert await sipp_done(uas) == 0, uas.log()  # our ACK, then our BYE
    await net.wait_ports_free()
