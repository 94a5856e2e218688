"""The sans-I/O channel core driven by hand: datagrams in, a manual clock, packets and notices out."""

from __future__ import annotations

from pathlib import Path

import pytest

from legato.media import base, g711, rtp
from legato.media.amd_params import AmdParams
from legato.media.channel_core import ChannelCore, Datagram, Notice, RecordingDone
from legato.media.channel_events import AmdWords
from legato.media.dtmf import DtmfDetector
from legato.media.speech import synthesize
from legato.media.telephone_event import TelephoneEventReceiver, event_payloads
from legato.media.wavfile import read_pcm
from tests.media.signals import dtmf, silence, tone, tone_ratio

FAR = ("192.0.2.10", 4000)


class Far:
    """A far end that numbers its packets like a real one."""

    def __init__(self, ssrc: int = 77) -> None:
        self.ssrc, self.seq, self.ts = ssrc, 100, 1000

    def audio(self, pcm: bytes, pt: int = 0) -> list[bytes]:
        out = []
        for off in range(0, len(pcm), g711.FRAME_BYTES):
            self.seq += 1
            out.append(rtp.build(pt, self.seq, self.ts, self.ssrc, g711.encode(pt, pcm[off:off + 320])))
            self.ts += g711.FRAME_SAMPLES
        return out

    def digit(self, digit: str) -> list[bytes]:
        out = []
        for marker, payload in event_payloads(digit, 100):
            self.seq += 1
            out.append(rtp.build(101, self.seq, self.ts, self.ssrc, payload, marker))
        self.ts += 800
        return out


def core_at(now: float = 0.0, payload_type: int = 0) -> ChannelCore:
    core = ChannelCore(now)
    core.set_remote(*FAR, payload_type, 101)
    return core


def feed(core: ChannelCore, packets: list[bytes], start: float, addr: tuple[str, int] = FAR) -> float:
    """Deliver packets 20 ms apart, ticking the clock in between; returns the time after the last."""
    now = start
    for packet in packets:
        core.tick(now)
        core.receive(packet, addr, now)
        now += 0.02
    return now


def run_clock(core: ChannelCore, until: float) -> tuple[list[Datagram], list[Notice | RecordingDone]]:
    """Tick at every timer the core asks for up to `until`; returns everything drained."""
    sent, events = [], []
    while (due := core.next_timer()) is not None and due <= until:
        core.tick(due)
        out, evs = core.drain()
        sent += out
        events += evs
    return sent, events


def notices(events: list, name: str) -> list[dict]:
    return [e.data for e in events if isinstance(e, Notice) and e.name == name]


def test_a_prompt_is_paced_at_20_ms_and_reports_its_end() -> None:
    core = core_at()
    play_id = core.play(tone(1000, 200), loop=2, now=0.0)
    sent, events = core.drain()
    assert len(sent) == 1 and core.next_timer() == pytest.approx(0.02)
    more, events = run_clock(core, until=1.0)
    sent += more
    packets = [rtp.parse(d.data) for d in sent]
    assert len(packets) == 20 and all(d.addr == FAR for d in sent)
    assert [p.sequence for p in packets] == [(packets[0].sequence + i) & 0xFFFF for i in range(20)]
    assert [p.timestamp - packets[0].timestamp for p in packets] == [160 * i for i in range(20)]
    assert packets[0].marker and not any(p.marker for p in packets[1:])
    assert notices(events, base.PLAY_COMPLETED) == [{"play_id": play_id, "reason": "finished"}]
    assert tone_ratio(b"".join(g711.decode(0, p.payload) for p in packets), 1000) > 0.9
    assert core.next_timer() == pytest.approx(5.0)  # only RTCP is left on the clock


def test_a_stalled_clock_does_not_burst() -> None:
    core = core_at()
    core.play(silence(1000), loop=1, now=0.0)
    core.tick(0.5)  # the loop stalled for half a second
    assert core.next_timer() == pytest.approx(0.5)
    core.drain()
    core.tick(0.5)
    assert len(core.drain()[0]) == 1


def test_digits_go_out_as_rfc4733_events_then_digits_sent() -> None:
    core = core_at()
    core.send_digits("7#", 100, now=0.0)
    sent, events = run_clock(core, until=2.0)
    rx = TelephoneEventReceiver()
    packets = [rtp.parse(d.data) for d in sent]
    assert "".join(g.digit for p in packets if (g := rx.feed(p.timestamp, p.payload))) == "7#"
    assert notices(events, base.DIGITS_SENT) == [{}]


def test_bridge_relays_transcoded_audio_unless_muted_or_held() -> None:
    a, b = core_at(), core_at(payload_type=8)
    a.bridge(b)
    far = Far()
    feed(a, far.audio(tone(600, 200)), 0.0)
    relayed = [rtp.parse(d.data) for d in b.drain()[0]]
    assert len(relayed) == 10 and {p.payload_type for p in relayed} == {8}
    assert tone_ratio(b"".join(g711.decode(8, p.payload) for p in relayed), 600) > 0.8
    a.muted = True
    feed(a, far.audio(tone(600, 100)), 0.2)
    assert b.drain()[0] == []
    a.muted, b.held = False, True
    feed(a, far.audio(tone(600, 100)), 0.3)
    assert b.drain()[0] == []
    a.unbridge()
    b.held = False
    feed(a, far.audio(tone(600, 100)), 0.4)
    assert b.drain()[0] == [] and a.peer is None and b.peer is None


def test_symmetric_rtp_latches_and_ignores_other_sources() -> None:
    core = core_at()
    real = ("198.51.100.7", 5004)
    far = Far(ssrc=5)
    feed(core, far.audio(silence(40)), 0.0, addr=real)
    assert core.remote == real
    feed(core, Far(ssrc=6).audio(silence(40)), 0.1, addr=("203.0.113.9", 6000))
    assert core.remote == real
    feed(core, far.audio(silence(20)), 0.2, addr=("198.51.100.7", 5006))  # same SSRC, new port: follow
    assert core.remote == ("198.51.100.7", 5006)


def test_gather_collects_rfc4733_digits_and_times_out_on_the_clock() -> None:
    core = core_at()
    far = Far()
    core.start_gather(None, 2.0, "#", now=0.0)
    now = feed(core, far.digit("4") + far.digit("2"), 0.0)
    assert 2.0 < core.next_timer() <= now + 2.0  # restarted by the last digit
    _, events = run_clock(core, until=now + 3)
    assert notices(core.drain()[1] + events, base.GATHER_COMPLETED) == [{"digits": "42", "reason": "timeout"}]


def test_gather_hears_inband_digits() -> None:
    core = core_at()
    core.start_gather(None, 5.0, "#", now=0.0)
    feed(core, Far().audio(b"".join(dtmf(d, 80) + silence(80) for d in "42#")), 0.0)
    events = core.drain()[1]
    assert notices(events, base.DTMF_RECEIVED) == [{"digit": d, "source": "inband"} for d in "42#"]
    assert notices(events, base.GATHER_COMPLETED) == [{"digits": "42", "reason": "finish_on_key"}]
    assert core.inband is None


def test_amd_decides_even_when_no_audio_arrives() -> None:
    core = core_at(now=9.0)
    core.start_amd(AmdParams.from_dict({"initial_silence_ms": 500, "total_analysis_time_ms": 800}), now=10.0)
    assert core.next_timer() == pytest.approx(11.8)
    _, events = run_clock(core, until=12.0)
    (verdict,) = notices(events, base.AMD_RESULT)
    assert (verdict["answered_by"], verdict["reason"]) == ("MACHINE", "INITIALSILENCE")
    assert core.amd is None or core.amd.deadline is None  # a MACHINE may still listen for a beep


def test_amd_asks_the_adapter_for_words_once_and_decides_on_its_answer(tmp_path: Path) -> None:
    core = core_at()
    core.start_amd(AmdParams(), now=0.0)
    voice = read_pcm(synthesize("Hi, you have reached the Smiths. Please leave a message.", tmp_path))
    feed(core, Far().audio(silence(300) + voice[: 16 * 1600]), 0.0)
    events = core.drain()[1]
    [ask] = [e for e in events if isinstance(e, AmdWords)]
    assert len(ask.pcm) >= 16 * 1250 and notices(events, base.AMD_RESULT) == []
    core.amd_heard("hi you have reached the smiths")
    [verdict] = notices(core.drain()[1], base.AMD_RESULT)
    assert (verdict["answered_by"], verdict["reason"]) == ("MACHINE", "WORDS")


def test_recording_is_rendered_on_the_clock_and_written_by_the_adapter(tmp_path: Path) -> None:
    core = core_at()
    core.start_recording(tmp_path / "r.wav", "in", now=0.0)
    now = feed(core, Far().audio(silence(200) + tone(700, 600)), 0.0)
    done = core.stop_recording(now, "stopped")
    assert core.drain()[1] == [done]
    assert not (tmp_path / "r.wav").exists()  # the core does no file I/O
    assert done.result["duration_ms"] == pytest.approx(800, abs=20)
    assert tone_ratio(done.pcm[1600 * 2:], 700) > 0.8


def test_rtcp_reports_go_to_the_port_above_or_where_rtcp_came_from() -> None:
    core = core_at()
    feed(core, Far().audio(silence(100)), 0.0)
    core.drain()
    core.tick(5.0)
    (report,) = core.drain()[0]
    assert report.rtcp and report.addr == (FAR[0], FAR[1] + 1)
    core.rtcp_received(("192.0.2.10", 4999))
    core.tick(10.0)
    assert core.drain()[0][0].addr == ("192.0.2.10", 4999)


def test_close_ends_everything_and_reports_figures(tmp_path: Path) -> None:
    core = core_at()
    feed(core, Far().audio(silence(400)), 0.0)
    play_id = core.play(silence(1000), 0, now=0.4)
    core.start_gather(3, 5.0, None, now=0.4)
    core.start_recording(tmp_path / "x.wav", "both", now=0.4)
    core.drain()
    stats = core.close(0.5)
    events = core.drain()[1]
    assert stats.packets_received == 20 and core.next_timer() is None
    assert notices(events, base.PLAY_COMPLETED) == [{"play_id": play_id, "reason": "released"}]
    assert notices(events, base.GATHER_COMPLETED) == [{"digits": "", "reason": "released"}]
    assert [e.result["reason"] for e in events if isinstance(e, RecordingDone)] == ["released"]


def test_inband_detector_hears_relayed_tones() -> None:
    a, b = core_at(), core_at(payload_type=8)
    a.bridge(b)
    feed(a, Far().audio(b"".join(dtmf(d, 60) + silence(60) for d in "159")), 0.0)
    heard = b"".join(g711.decode(8, rtp.parse(d.data).payload) for d in b.drain()[0])
    assert "".join(DtmfDetector().feed(heard)) == "159"


def test_a_recording_s_beep_plays_first_and_the_recording_starts_after_it(tmp_path: Path) -> None:
    core = core_at()
    core.start_recording(tmp_path / "b.wav", "both", now=0.0, beep=True)
    sent, events = core.drain()
    more, events = run_clock(core, until=1.0)
    packets = [rtp.parse(d.data) for d in sent + more]
    assert len(packets) == 25  # 0.5 s of tone, then nothing more is sent
    assert tone_ratio(b"".join(g711.decode(0, p.payload) for p in packets), 1000) > 0.9
    assert notices(events, base.PLAY_COMPLETED) == []  # the beep is no prompt of the application's
    now = feed(core, Far().audio(tone(700, 400)), 1.0)
    done = core.stop_recording(now, "stopped")
    assert done.result["duration_ms"] == pytest.approx(900, abs=20)  # from the end of the beep (0.5 s) on
    assert tone_ratio(done.pcm, 1000) < 0.1  # the beep is not in it


def test_a_gather_with_silence_timeout_ends_after_that_long_without_voice() -> None:
    core = core_at()
    far = Far()
    core.start_gather(1, 30.0, None, now=0.0, silence_timeout=1.0)
    now = feed(core, far.audio(tone(300, 800)), 0.0)  # the caller speaks until 0.8 s: no silence yet
    now = feed(core, far.audio(silence(600)), now)
    assert notices(core.drain()[1], base.GATHER_COMPLETED) == []
    assert core.next_timer() == pytest.approx(1.8, abs=0.03)  # 1 s after the last voiced frame
    _, events = run_clock(core, until=2.0)
    assert notices(events, base.GATHER_COMPLETED) == [{"digits": "", "reason": "silence"}]


def late_beep_call(tmp_path: Path) -> bytes:
    """A greeting whose first phrase ends in a pause like a person's answer, its beep 4 s later."""
    voice = read_pcm(synthesize("Hey, it's Jen.", tmp_path, rate=190))
    return silence(400) + voice + silence(4000) + tone(1000, 500, -12) + silence(1500)


def test_a_beep_after_a_human_verdict_is_reported(tmp_path: Path) -> None:
    core = core_at()
    core.start_amd(AmdParams(words_ms=0), now=0.0)
    feed(core, Far().audio(late_beep_call(tmp_path)), 0.0)
    verdicts = notices(core.drain()[1], base.AMD_RESULT)
    assert [v["answered_by"] for v in verdicts] == ["HUMAN", "BEEP"]
    assert core.amd is None


def test_audio_sent_after_a_human_verdict_ends_the_beep_listen(tmp_path: Path) -> None:
    # the person hears a prompt from the moment of the verdict: its echo must not be taken for a beep
    core = core_at()
    core.start_amd(AmdParams(words_ms=0), now=0.0)
    now, verdicts = 0.0, []
    for packet in Far().audio(late_beep_call(tmp_path)):
        core.tick(now)
        core.receive(packet, FAR, now)
        now += 0.02
        found = notices(core.drain()[1], base.AMD_RESULT)
        if found and core.amd is not None:
            core.play(tone(1000, 500, -12), 1, now)
        verdicts += found
    assert [v["answered_by"] for v in verdicts] == ["HUMAN"]
    assert core.amd is None
