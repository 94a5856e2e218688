"""One leg's media as a sans-I/O state machine (in the style of aioquic's QuicConnection).

The core is fed datagrams (`receive`), the clock (`tick`) and commands (`play`, `gather`, ...), each
with `now` in seconds; it never touches a socket, a file or a loop. What it wants done comes out of
`drain()`: datagrams to send and events (notifications, recordings to write). `next_timer()` says
when `tick` must be called next. The asyncio adapter is media/channel.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.media import base, g711, rtp
from legato.media.amd_feed import AmdFeed
from legato.media.amd_params import AmdParams
from legato.media.channel_events import Address, AmdWords, Datagram, Event, Notice, Recognise, RecordingDone
from legato.media.digit_sender import DigitSender
from legato.media.dtmf import DtmfDetector
from legato.media.gather import Gather, GatherResult, SpeechOptions
from legato.media.player import BEEP_SECONDS, Prompt, PromptQueue, beep_tone
from legato.media.recorder import Recorder
from legato.media.rtcp import ReceiverStatistics, ReceiverStats, build_receiver_report
from legato.media.rtp_sender import PTIME, RtpSender
from legato.media.stream.core import StreamCore, StreamSet
from legato.media.telephone_event import TelephoneEventReceiver

RTCP_INTERVAL = 5.0
BEEP_ID = "beep-"  # a recording's beep: played like a prompt, reported as none
MAX_LAG = 0.1  # the prompt clock fell this far behind (a stalled loop): do not burst
_ids = itertools.count(1)
__all__ = ["ChannelCore", "Datagram", "Event", "Notice", "Recognise", "RecordingDone"]




class ChannelCore:
    """The media of one leg: latching, sequencing, bridge relay, prompts, digits, gather, AMD, RTCP."""

    def __init__(self, now: float) -> None:
        self.remote: Address | None = None
        self.latched = False
        self.rtcp_seen: Address | None = None
        self.codec = g711.Codec.PCMU
        self.te_pt: int | None = 101
        self.sender = RtpSender()
        self.stats = ReceiverStatistics()
        self.events = TelephoneEventReceiver()
        self.seen_rfc4733 = False
        self.peer: ChannelCore | None = None
        self.mix_sink: Callable[[bytes], None] | None = None  # a conference's mixer takes what the leg says
        self.muted = False
        self.held = False
        self.prompts = PromptQueue()
        self.digits = DigitSender()
        self._fwd_event: tuple[int, int] | None = None  # (incoming ts, outgoing ts)
        self._next_tick: float | None = None  # the 20 ms send clock, while prompts or digits run
        self.recorder: Recorder | None = None
        self._transcribe = False  # the running recording is to be transcribed
        self.gather: Gather | None = None
        self.inband: DtmfDetector | None = None
        self.always_inband = False
        self.amd: AmdFeed | None = None
        self.streams = StreamSet()
        self._rtcp_due: float | None = now + RTCP_INTERVAL
        self.closed = False
        self._out: list[Datagram] = []
        self._events: list[Event] = []

    # ---- outputs --------------------------------------------------------------------------
    def drain(self) -> tuple[list[Datagram], list[Event]]:
        """What to send and what to report since the last drain."""
        out, events = self._out, self._events
        self._out, self._events = [], []
        return out, events

    def next_timer(self) -> float | None:
        """When `tick` must run next (None: nothing is waiting on the clock)."""
        due = [t for t in (self._next_tick, self.gather.deadline if self.gather else None,
                           self.amd.deadline if self.amd else None, self._rtcp_due) if t is not None]
        return min(due) if due else None

    def _notify(self, name: str, data: dict[str, Any]) -> None:
        self._events.append(Notice(name, data))

    # ---- lifecycle ------------------------------------------------------------------------
    def close(self, now: float, reason: str = "released") -> ReceiverStats:
        """End everything on the channel; returns the receiver figures."""
        if self.closed:
            return self.stats.snapshot()
        if self.peer is not None:
            self.unbridge()
        self.mix_sink = None
        self.stop_play(reason)
        self.digits.clear()
        if self.recorder is not None:
            self.stop_recording(now, reason)
        if self.gather is not None:
            self._finish_gather(GatherResult(self.gather.digits, reason))
        self.streams.close()
        self.closed = True
        self._next_tick = self._rtcp_due = None
        self.amd = None
        return self.stats.snapshot()

    def set_remote(self, host: str, port: int, payload_type: int, te_pt: int | None) -> None:
        if payload_type not in (0, 8):
            raise base.MediaError("bad_request", "payload_type must be 0 (PCMU) or 8 (PCMA)")
        self.codec = g711.Codec(payload_type)
        self.te_pt = te_pt
        if not self.latched:
            self.remote = (host, port)

    def rtcp_received(self, addr: Address) -> None:
        self.rtcp_seen = addr  # the far end's RTCP source, for our receiver reports

    # ---- receiving ------------------------------------------------------------------------
    def receive(self, data: bytes, addr: Address, now: float) -> None:
        """One datagram arrived on the RTP port."""
        if self.closed or rtp.is_rtcp(data):
            return
        try:
            pkt = rtp.parse(data)
        except rtp.RtpError:
            return
        if addr != self.remote or not self.latched:
            if not self.latched or pkt.ssrc == self.stats.ssrc:
                self.remote = addr  # symmetric RTP: answer where the far end really sends from
                self.latched = True
            else:
                return
        pt = pkt.payload_type
        if pt != 13:
            self.stats.update(pkt.ssrc, pkt.sequence, pkt.timestamp, now)
        peer = self.peer
        forward = peer is not None and not self.muted and not self.held and not peer.held
        if pt == self.te_pt:
            self.seen_rfc4733 = True
            got = self.events.feed(pkt.timestamp, pkt.payload)
            if got is not None:
                self._on_digit(got.digit, "rfc4733", now)
            if forward and peer is not None:
                peer.forward_event(pkt.timestamp, pkt.payload, pkt.marker, now)
            return
        if pt not in (0, 8):
            return
        if forward and peer is not None:
            peer.forward_audio(pt, pkt.payload, pkt.marker, now)
        pcm = None
        if self.mix_sink is not None and not self.muted and not self.held:
            pcm = g711.decode(pt, pkt.payload)
            self.mix_sink(pcm)
        if (self.amd is not None or self.inband is not None or (self.recorder and self.recorder.wants("in"))
                or self.streams.wants("inbound") or (self.gather is not None and self.gather.listening)):
            self._analyse(pcm or g711.decode(pt, pkt.payload), now)

    def _analyse(self, pcm: bytes, now: float) -> None:
        """Received audio to the recorder, the in-band DTMF detector, a speech gather and AMD."""
        if self.recorder is not None:
            self.recorder.add("in", pcm, now)
        self.streams.feed("inbound", pcm, now)
        if self.gather is not None and self.gather.listening:
            result = self.gather.on_audio(pcm, now)
            if result is not None:
                self._finish_gather(result)
        if self.inband is not None and not self.seen_rfc4733:
            for digit in self.inband.feed(pcm):
                self._on_digit(digit, "inband", now)
        if self.amd is not None:
            self._amd_verdicts(self.amd.feed(pcm), self.amd.done)
            words = self.amd.take_words() if self.amd is not None else None
            if words is not None:
                self._events.append(AmdWords(words))

    # ---- sending --------------------------------------------------------------------------
    def _send(self, pt: int, ts: int, payload: bytes, marker: bool) -> None:
        if self.remote is None or self.closed:
            return
        self._out.append(Datagram(self.sender.packet(pt, ts, payload, marker), self.remote))

    def _send_audio(self, payload: bytes, now: float, marker: bool = False, pcm: bytes | None = None) -> None:
        ts, jumped = self.sender.timestamp(now, len(payload))
        self._send(int(self.codec), ts, payload, marker or jumped)
        if self.amd is not None and self.amd.detector.after_human:
            self.amd = None  # a person answered and hears us now: our audio's echo could hold a tone, not a beep
        if (self.recorder is not None and self.recorder.wants("out")) or self.streams.wants("outbound"):
            pcm = pcm if pcm is not None else g711.decode(self.codec, payload)
            if self.recorder is not None and self.recorder.wants("out"):
                self.recorder.add("out", pcm, now)
            self.streams.feed("outbound", pcm, now)

    def _send_event(self, ts: int, payload: bytes, marker: bool) -> None:
        if self.te_pt is not None:
            self._send(self.te_pt, ts, payload, marker)

    @property
    def busy(self) -> bool:
        """True while a prompt or digits own the outgoing stream (bridged audio is dropped)."""
        return bool(self.prompts) or self.digits.busy or self.streams.playing

    # ---- bridge relay ---------------------------------------------------------------------
    def forward_audio(self, pt: int, payload: bytes, marker: bool, now: float) -> None:
        """Audio from the bridge peer, transcoded to this leg's codec."""
        if self.busy or self.closed:
            return
        self._send_audio(g711.transcode(pt, self.codec, payload), now, marker)

    def forward_event(self, ts_in: int, payload: bytes, marker: bool, now: float) -> None:
        """A telephone-event packet from the bridge peer: keep one outgoing timestamp per event."""
        if self.busy or self.closed or self.te_pt is None:
            return
        if self._fwd_event is None or self._fwd_event[0] != ts_in:
            ts_out, _ = self.sender.timestamp(now, 0)
            self._fwd_event = (ts_in, ts_out)
        else:
            self.sender.last_send = now
        self._send(self.te_pt, self._fwd_event[1], payload, marker)

    def send_mix(self, pcm: bytes, now: float) -> None:
        """20 ms of a conference's mix for this leg (linear PCM); prompts and digits go first."""
        if self.busy or self.closed or self.held:
            return
        self._send_audio(g711.encode(self.codec, pcm), now, pcm=pcm)

    def bridge(self, other: ChannelCore) -> None:
        self.peer, other.peer = other, self

    def unbridge(self) -> None:
        if self.peer is not None:
            self.peer.peer = None
            self.peer = None

    # ---- the clock ------------------------------------------------------------------------
    def tick(self, now: float) -> None:
        """Do what is due at `now`: the 20 ms send clock, the gather and AMD deadlines, RTCP."""
        if self.closed:
            return
        if self._next_tick is not None and now >= self._next_tick:
            self._clock(now)
        if self.gather is not None and now >= self.gather.deadline:
            result = self.gather.on_clock(now)
            if result is not None:
                self._finish_gather(result)
        if self.amd is not None and self.amd.deadline is not None and now >= self.amd.deadline:
            self._amd_verdicts(*self.amd.expire())
        if self._rtcp_due is not None and now >= self._rtcp_due:
            self._send_rtcp()
            self._rtcp_due = now + RTCP_INTERVAL

    def _start_clock(self, now: float) -> None:
        if self._next_tick is None and not self.closed:
            self._next_tick = now
            self._clock(now)

    def _clock(self, now: float) -> None:
        assert self._next_tick is not None
        if not self._clock_step(now):
            self._next_tick = None
            return
        self._next_tick += PTIME
        if self._next_tick < now - MAX_LAG:
            self._next_tick = now

    def _clock_step(self, now: float) -> bool:
        """Send what is due this 20 ms; returns False when there is nothing left to send."""
        ticked, all_sent = self.digits.tick(now, self.sender, self._send_event)
        if all_sent:
            self._notify(base.DIGITS_SENT, {})
        if ticked:
            return True
        frame, finished = self.prompts.next_frame()
        for play_id in finished:
            if not play_id.startswith(BEEP_ID):
                self._notify(base.PLAY_COMPLETED, {"play_id": play_id, "reason": "finished"})
        if frame is None:
            frame = self.streams.next_frame()
            if frame is None:
                return self.streams.playing
        self._send_audio(g711.encode(self.codec, frame), now, pcm=frame)
        return True

    def _send_rtcp(self) -> None:
        target = self.rtcp_seen or (None if self.remote is None else (self.remote[0], self.remote[1] + 1))
        if target is not None:
            self._out.append(Datagram(build_receiver_report(self.sender.ssrc, self.stats), target, rtcp=True))

    # ---- commands -------------------------------------------------------------------------
    def play(self, pcm: bytes, loop: int, now: float) -> str:
        play_id = f"play-{next(_ids)}"
        self.prompts.add(Prompt(play_id, pcm, loop))
        self._start_clock(now)
        return play_id

    def stop_play(self, reason: str = "stopped") -> None:
        for play_id in self.prompts.drop():
            if not play_id.startswith(BEEP_ID):
                self._notify(base.PLAY_COMPLETED, {"play_id": play_id, "reason": reason})

    def send_digits(self, digits: str, duration_ms: int, now: float) -> None:
        self.digits.add(digits, duration_ms)
        self._start_clock(now)

    def start_recording(self, path: Path, direction: str, now: float, transcribe: bool = False,
                        beep: bool = False) -> str:
        """Start recording (`transcribe`: the finished recording is also recognised; `beep`: a 1 kHz tone to the
        leg first, the recording starts once it has played)."""
        if self.recorder is not None:
            raise base.MediaError("conflict", "already recording")
        rec_id = f"rec-{next(_ids)}"
        if beep:
            self.prompts.add(Prompt(f"{BEEP_ID}{rec_id}", beep_tone(), 1))
            self._start_clock(now)
        self.recorder = Recorder(rec_id, path, direction, now + (BEEP_SECONDS if beep else 0.0))
        self._transcribe = transcribe
        return rec_id

    def stop_recording(self, now: float, reason: str = "stopped") -> RecordingDone:
        """End the recording; the returned job (also among the drained events) writes the file."""
        rec = self.recorder
        if rec is None:
            raise base.MediaError("conflict", "not recording")
        self.recorder = None
        pcm = rec.render(now)
        result = {"recording_id": rec.recording_id, "path": str(rec.path),
                  "duration_ms": len(pcm) // 2 * 1000 // g711.SAMPLE_RATE, "direction": rec.direction,
                  "reason": reason}
        done = RecordingDone(rec.path, pcm, result, self._transcribe)
        self._events.append(done)
        return done

    def start_gather(self, num_digits: int | None, timeout: float, finish_on_key: str | None,
                     now: float, input: str = "dtmf", speech: SpeechOptions | None = None,
                     silence_timeout: float | None = None) -> None:
        if self.gather is not None:
            raise base.MediaError("conflict", "a gather is already running")
        try:
            self.gather = Gather(num_digits, timeout, finish_on_key, now, input, speech, silence_timeout)
        except ValueError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        if not self.seen_rfc4733 and self.inband is None:
            self.inband = DtmfDetector()

    def _finish_gather(self, result: GatherResult) -> None:
        gather, self.gather = self.gather, None
        if not self.always_inband:
            self.inband = None
        data = {"digits": result.digits, "reason": result.reason}
        if result.speech is not None and gather is not None:
            self._events.append(Recognise(result.speech, gather.options, data))
        else:
            self._notify(base.GATHER_COMPLETED, data)

    def _on_digit(self, digit: str, source: str, now: float) -> None:
        self._notify(base.DTMF_RECEIVED, {"digit": digit, "source": source})
        self.streams.digit(digit)
        if self.gather is not None:
            result = self.gather.on_digit(digit, now)
            if result is not None:
                self._finish_gather(result)

    def start_amd(self, params: AmdParams, now: float) -> None:
        if self.amd is not None:
            raise base.MediaError("conflict", "AMD is already running")
        self.amd = AmdFeed(params, now)

    def amd_heard(self, text: str) -> None:
        """The recogniser's reading of the greeting AMD asked about (AmdWords)."""
        if self.amd is not None:
            self._amd_verdicts(self.amd.heard(text), self.amd.done)

    def _amd_verdicts(self, verdicts: list[dict[str, Any]], finished: bool) -> None:
        for verdict in verdicts:
            self._notify(base.AMD_RESULT, verdict)
        if finished:
            self.amd = None

    # ---- media streams (media/stream/) ------------------------------------------------------
    def start_stream(self, stream: StreamCore) -> None:
        """Add a stream (its WebSocket is opening); MediaError when the leg has no room for it."""
        try:
            self.streams.add(stream)
        except ValueError as exc:
            raise base.MediaError("conflict", str(exc)) from None

    def stream_received(self, stream: StreamCore, text: str, now: float) -> None:
        """A frame from a stream's application (ProtocolError when it is not one its protocol allows)."""
        if stream.receive(text):
            self._start_clock(now)
