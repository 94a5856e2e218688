"""End to end: the media engine process, driven by MediaClient, with real RTP over UDP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from legato.media.base import MediaError
from legato.media.client import MediaClient
from legato.media.dtmf import DtmfDetector
from legato.media.speech import synthesize
from legato.media.telephone_event import TelephoneEvent, TelephoneEventReceiver
from legato.media.wavfile import read_pcm, write_pcm
from tests.media.conftest import Notes, start_server
from tests.media.rtp_peer import RtpPeer
from tests.media.signals import dtmf, silence, tone, tone_ratio
from tests.waiting import until

pytestmark = pytest.mark.media


async def leg(client: MediaClient, leg_id: str, codec: int = 0) -> RtpPeer:
    """Allocate a leg and a far-end peer wired to it (the answer SDP points at the peer)."""
    alloc = await client.allocate(leg_id)
    peer = await RtpPeer.open()
    peer.target = (alloc.address, alloc.port)
    await client.set_remote(leg_id, "127.0.0.1", peer.port, codec)
    return peer


async def test_amd_verdicts_on_spoken_greetings(engine, tmp_path: Path) -> None:
    client, notes = engine
    cases = {
        "amd-human1": (silence(500) + read_pcm(synthesize("Hello?", tmp_path)) + silence(2500), ["HUMAN"]),
        "amd-human2": (silence(300) + read_pcm(synthesize("Yes, speaking.", tmp_path, "en-gb", 170))
                       + silence(2500), ["HUMAN"]),
        "amd-machine": (silence(400) + read_pcm(synthesize(
            "Hi, you have reached Sam. Please leave a message.", tmp_path)) + silence(1500), ["MACHINE"]),
        "amd-beep": (silence(300) + read_pcm(synthesize(
            "Hi, this is Alex. Leave a message after the tone.", tmp_path, "en-us+f3"))
            + silence(500) + tone(1000, 500, -14) + silence(1000), ["MACHINE", "BEEP"]),
    }
    peers = {name: await leg(client, name) for name in cases}
    for name in cases:
        await client.start_amd(name)
    await asyncio.gather(*(peers[name].send_pcm(pcm) for name, (pcm, _) in cases.items()))
    for name, (_, expected) in cases.items():
        await notes.wait("amd_result", name, count=len(expected))
        got = [n.data for n in notes.items if n.name == "amd_result" and n.leg_id == name]
        assert [g["answered_by"] for g in got] == expected, (name, got)
        assert got[0]["decision_ms"] > 0 and "initial_silence_ms" in got[0] and "words" in got[0]
        await client.release(name)
        peers[name].close()
    beep = [n.data for n in notes.items if n.name == "amd_result" and n.leg_id == "amd-beep"][1]
    assert beep["beep_hz"] == pytest.approx(1000, abs=15)


async def test_amd_without_any_audio_still_decides(engine) -> None:
    client, notes = engine
    peer = await leg(client, "amd-mute")
    await client.call(
        "start_amd", leg_id="amd-mute", params={"initial_silence_ms": 500, "total_analysis_time_ms": 800})
    (note,) = await notes.wait("amd_result", "amd-mute", within=5)
    assert (note.data["answered_by"], note.data["reason"]) == ("MACHINE", "INITIALSILENCE")
    await client.release("amd-mute")
    peer.close()


async def test_bridge_forwards_and_unbridge_stops(engine) -> None:
    client, _ = engine
    a = await leg(client, "br-a", codec=0)
    b = await leg(client, "br-b", codec=8)  # PCMU in, PCMA out: transcoded
    await client.bridge("br-a", "br-b")
    await a.send_pcm(tone(1000, 600, -12))
    await b.wait_for(27)
    heard = b.audio_pcm()
    assert len(heard) >= 0.9 * 600 * 16
    assert {p.payload_type for _, p in b.received} == {8}
    assert tone_ratio(heard, 1000) > 0.8
    await b.send_pcm(tone(600, 300, -12))  # and the other way
    await a.wait_for(14)
    assert tone_ratio(a.audio_pcm(), 600) > 0.8
    await client.unbridge("br-a")
    before = len(b.received)
    await a.send_pcm(tone(1000, 400))
    await asyncio.sleep(0.2)  # kept: a window of real time in which the engine (another process) sends b nothing
    assert len(b.received) == before  # a leg left alone hears nothing
    for name, peer in (("br-a", a), ("br-b", b)):
        await client.release(name)
        peer.close()


async def test_mute_and_hold_stop_bridge_audio(engine) -> None:
    client, _ = engine
    a, b = await leg(client, "mh-a"), await leg(client, "mh-b")
    await client.bridge("mh-a", "mh-b")
    await client.mute("mh-a")
    await a.send_pcm(tone(1000, 200))
    await b.send_pcm(tone(700, 200))
    await a.wait_for(8)  # a hears b
    await asyncio.sleep(0.1)  # kept: a window of real time in which the engine sends muted a's audio nowhere
    assert not b.received  # a is muted: b does not hear a, a hears b
    await client.unmute("mh-a")
    await client.hold("mh-b")
    count_a = len(a.received)
    await a.send_pcm(tone(1000, 200))
    await b.send_pcm(tone(700, 200))
    await asyncio.sleep(0.1)  # kept: a window of real time in which the engine sends neither any held audio
    assert not b.received and len(a.received) == count_a
    await client.unhold("mh-b")
    await a.send_pcm(tone(1000, 200))
    await b.wait_for(8)
    for name, peer in (("mh-a", a), ("mh-b", b)):
        await client.release(name)
        peer.close()


async def test_symmetric_rtp_latches_onto_the_real_source(engine) -> None:
    client, _ = engine
    alloc = await client.allocate("latch")
    peer = await RtpPeer.open()
    peer.target = (alloc.address, alloc.port)
    await client.set_remote("latch", "127.0.0.1", 9, 0)  # the SDP says port 9, packets come from elsewhere
    await peer.send_pcm(silence(60))
    await client.send_digits("latch", "1")
    await peer.wait_for(lambda: any(p.payload_type == 101 for _, p in peer.received))
    await client.release("latch")
    peer.close()


async def test_recording_captures_the_tone(engine, media_server) -> None:
    client, notes = engine
    peer = await leg(client, "rec")
    started = await client.start_recording("rec", direction="in", folder="calls")
    assert started["path"].startswith(str(media_server[1] / "rec" / "calls"))
    await peer.send_pcm(silence(200) + tone(700, 800, -10) + silence(200))
    result = await client.stop_recording("rec")
    (note,) = await notes.wait("recording_completed", "rec")
    assert note.data["path"] == result["path"]
    assert 1100 <= result["duration_ms"] <= 1500
    with wave.open(result["path"]) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        data = w.readframes(w.getnframes())
    assert tone_ratio(data, 700) > 0.8
    with pytest.raises(MediaError) as err:
        await client.start_recording("rec", folder="../../etc")
    assert err.value.code == "bad_request"
    await client.release("rec")
    peer.close()


async def test_play_say_and_stop(engine, tmp_path: Path) -> None:
    client, notes = engine
    peer = await leg(client, "play")
    wav = tmp_path / "tone.wav"
    write_pcm(wav, tone(1200, 300, -10))
    play_id = await client.play("play", str(wav), loop=2)
    (done,) = await notes.wait("play_completed", "play", within=3)
    assert done.data == {"play_id": play_id, "reason": "finished"}
    heard = peer.audio_pcm()
    assert 28 <= len(heard) // 320 <= 32 and tone_ratio(heard, 1200) > 0.8
    say_id = await client.say("play", "Your call is important to us, please stay on the line.", rate=170)
    await peer.wait_for(len(peer.received) + 10)  # the say is being heard
    await client.stop_play("play")
    notes_play = await notes.wait("play_completed", "play", count=2, within=3)
    assert notes_play[1].data == {"play_id": say_id, "reason": "stopped"}
    with pytest.raises(MediaError) as err:
        await client.play("play", str(tmp_path / "missing.wav"))
    assert err.value.code == "bad_request"
    await client.release("play")
    peer.close()


async def test_gather_rfc4733_digits_even_when_end_packets_are_lost(engine) -> None:
    client, notes = engine
    peer = await leg(client, "g1")
    await client.gather("g1", num_digits=3, timeout=3)
    await peer.send_digit("1")
    await peer.send_digit("2", drop_end=True)
    await peer.send_digit("3")
    (done,) = await notes.wait("gather_completed", "g1", within=3)
    assert done.data == {"digits": "123", "reason": "num_digits"}
    digits = [n.data for n in notes.items if n.name == "dtmf_received" and n.leg_id == "g1"]
    assert digits == [{"digit": d, "source": "rfc4733"} for d in "123"]
    await client.release("g1")
    peer.close()


async def test_gather_inband_digits_and_timeout(engine) -> None:
    client, notes = engine
    peer = await leg(client, "g2")
    await client.gather("g2", timeout=2, finish_on_key="#")
    await peer.send_pcm(b"".join(dtmf(d, 80) + silence(80) for d in "42#") + silence(100))
    (done,) = await notes.wait("gather_completed", "g2", within=3)
    assert done.data == {"digits": "42", "reason": "finish_on_key"}
    await client.gather("g2", timeout=0.5)
    (_, timed_out) = await notes.wait("gather_completed", "g2", within=3, count=2)
    assert timed_out.data == {"digits": "", "reason": "timeout"}
    await client.release("g2")
    peer.close()


async def test_send_digits_as_rfc4733(engine) -> None:
    client, notes = engine
    peer = await leg(client, "sd")
    await client.send_digits("sd", "7#", duration_ms=100)
    await notes.wait("digits_sent", "sd", within=3)

    def telephone_events() -> list:  # each digit ends with 3 end packets
        return [p for _, p in peer.received if p.payload_type == 101]

    await peer.wait_for(lambda: sum(TelephoneEvent.decode(p.payload).end for p in telephone_events()) == 6)
    events = telephone_events()
    rx = TelephoneEventReceiver()
    assert "".join(d.digit for p in events if (d := rx.feed(p.timestamp, p.payload))) == "7#"
    first_ts = events[0].timestamp
    first = [p for p in events if p.timestamp == first_ts]
    assert first[0].marker and not any(p.marker for p in first[1:])
    assert sum(TelephoneEvent.decode(p.payload).end for p in first) == 3
    await client.release("sd")
    peer.close()


async def test_inband_detector_hears_the_tones_we_send(engine) -> None:
    """Bridged in-band DTMF survives the G.711 relay (detected on the far side)."""
    client, _ = engine
    a, b = await leg(client, "ib-a"), await leg(client, "ib-b", codec=8)
    await client.bridge("ib-a", "ib-b")
    await a.send_pcm(b"".join(dtmf(d, 60) + silence(60) for d in "159"))
    await b.wait_for(17)
    det = DtmfDetector()
    assert "".join(det.feed(b.audio_pcm())) == "159"
    for name, peer in (("ib-a", a), ("ib-b", b)):
        await client.release(name)
        peer.close()


async def test_release_reports_rtcp_figures(engine) -> None:
    client, _ = engine
    peer = await leg(client, "stats")
    await peer.send_pcm(silence(400))
    stats = await client.release("stats")
    assert stats is not None and stats.packets_received == 20 and stats.packets_lost == 0
    peer.close()


async def test_errors_are_clear(engine) -> None:
    client, _ = engine
    for call, code in [(client.release("nope"), "unknown_leg"), (client.allocate("../x"), "bad_request"),
                       (client.call("frobnicate"), "bad_request"),
                       (client.call("allocate"), "bad_request")]:
        with pytest.raises(MediaError) as err:
            await call
        assert err.value.code == code
    await client.allocate("dup")
    with pytest.raises(MediaError) as err:
        await client.allocate("dup")
    assert err.value.code == "conflict"
    with pytest.raises(MediaError) as err:
        await client.start_recording("dup", direction="sideways")  # type: ignore[arg-type]
    assert err.value.code == "bad_request"
    await client.release("dup")


async def test_port_exhaustion_and_release(tmp_path: Path) -> None:
    proc, port = start_server(tmp_path, "21400-21403")  # two RTP/RTCP pairs
    try:
        client = MediaClient("127.0.0.1", port)
        await client.start(Notes())
        first = await client.allocate("x1")
        await client.allocate("x2")
        with pytest.raises(MediaError) as err:
            await client.allocate("x3")
        assert err.value.code == "no_ports" and "no free RTP port" in err.value.message
        await client.release("x1")
        again = await client.allocate("x3")
        assert again.port == first.port
        await client.close()  # a lost control connection frees its legs
        other = MediaClient("127.0.0.1", port)
        await other.start(Notes())
        await until(lambda: other.call("ping"), lambda pong: pong["legs"] == 0, seconds=5, what="the legs freed")
        assert {(await other.allocate(f"y{i}")).port for i in range(2)} == {21400, 21402}
        await other.close()
    finally:
        proc.terminate()
        proc.wait(timeout=5)
