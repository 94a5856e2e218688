"""One leg's media: its RTP socket, symmetric latching, sending clock, and what runs on it.

A Channel receives RTP (audio and RFC 4733 events), forwards it to its bridge peer, feeds the
detectors and the recorder, and sends prompts and digits on a 20 ms clock. It is driven by the
asyncio loop (datagram callbacks and timers) and reports through `notify(name, data)`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.media import base, g711, rtp
from legato.media.amd import AmdDetector
from legato.media.amd_params import AmdParams
from legato.media.dtmf import DtmfDetector
from legato.media.gather import Gather, GatherResult
from legato.media.player import Prompt
from legato.media.recorder import Recorder
from legato.media.rtcp import ReceiverStatistics, ReceiverStats, build_receiver_report
from legato.media.telephone_event import TelephoneEventReceiver, event_payloads

log = logging.getLogger(__name__)

PTIME = 0.020
GAP_RESYNC = 3 * PTIME  # a send after this long starts a new talkspurt (timestamp jump, marker)
RTCP_INTERVAL = 5.0
_ids = itertools.count(1)

Notify = Callable[[str, dict[str, Any]], None]


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.channel.rtcp_seen = addr  # the far end's RTCP source, for our receiver reports

    def error_received(self, exc: Exception) -> None:
        pass


class Channel(asyncio.DatagramProtocol):
    """The media of one leg."""

    def __init__(self, leg_id: str, port: int, notify: Notify, loop: asyncio.AbstractEventLoop) -> None:
        self.leg_id = leg_id
        self.port = port
        self.notify = notify
        self.loop = loop
        self.transport: asyncio.DatagramTransport | None = None
        self.rtcp_transport: asyncio.DatagramTransport | None = None
        self.rtcp_seen: tuple[str, int] | None = None
        # far end
        self.remote: tuple[str, int] | None = None
        self.latched = False
        self.codec = g711.Codec.PCMU
        self.te_pt: int | None = 101
        # sending
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.next_ts = random.getrandbits(32)
        self.last_send: float | None = None
        self.packets_sent = 0
        # receiving
        self.stats = ReceiverStatistics()
        self.events = TelephoneEventReceiver()
        self.seen_rfc4733 = False
        # features
        self.peer: Channel | None = None
        self.muted = False
        self.held = False
        self.prompts: deque[Prompt] = deque()
        self.digit_queue: deque[tuple[str, int]] = deque()
        self._event: tuple[int, list[tuple[bool, bytes]], int] | None = None  # (ts, packets, index)
        self._gap_ticks = 0
        self._fwd_event: tuple[int, int] | None = None  # (incoming ts, outgoing ts)
        self._clock: asyncio.TimerHandle | None = None
        self._next_tick = 0.0
        self.recorder: Recorder | None = None
        self.gather: Gather | None = None
        self._gather_timer: asyncio.TimerHandle | None = None
        self.inband: DtmfDetector | None = None
        self.always_inband = False
        self.amd: AmdDetector | None = None
        self._amd_timer: asyncio.TimerHandle | None = None
        self._rtcp_timer: asyncio.TimerHandle | None = None
        self.closed = False

    # ---- lifecycle ------------------------------------------------------------------------
    async def open(self, host: str) -> None:
        """Bind RTP on `port` and RTCP on `port + 1`; raises OSError when either is taken."""
        self.transport, _ = await self.loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, self.port))
        try:
            self.rtcp_transport, _ = await self.loop.create_datagram_endpoint(
                lambda: _RtcpProtocol(self), local_addr=(host, self.port + 1))
        except OSError:
            self.transport.close()
            raise
        self._rtcp_timer = self.loop.call_later(RTCP_INTERVAL, self._send_rtcp)

    def close(self, reason: str = "released") -> ReceiverStats:
        """End everything on the channel and free its sockets; returns the receiver figures."""
        if self.closed:
            return self.stats.snapshot()
        self.closed = True
        if self.peer is not None:
            self.unbridge()
        self.stop_play(reason)
        self.digit_queue.clear()
        self._event = None
        if self.recorder is not None:
            self.stop_recording(reason)
        if self.gather is not None:
            self._finish_gather(GatherResult(self.gather.digits, reason))
        for timer in (self._clock, self._amd_timer, self._rtcp_timer):
            if timer is not None:
                timer.cancel()
        self.amd = None
        for transport in (self.transport, self.rtcp_transport):
            if transport is not None:
                transport.close()
        stats = self.stats.snapshot()
        self.notify(base.RTCP_STATS, stats.to_dict())
        return stats

    def set_remote(self, host: str, port: int, payload_type: int, te_pt: int | None) -> None:
        if payload_type not in (0, 8):
            raise base.MediaError("bad_request", "payload_type must be 0 (PCMU) or 8 (PCMA)")
        self.codec = g711.Codec(payload_type)
        self.te_pt = te_pt
        if not self.latched:
            self.remote = (host, port)

    # ---- receiving ------------------------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
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
        now = self.loop.time()
        pt = pkt.payload_type
        if pt != 13:
            self.stats.update(pkt.ssrc, pkt.sequence, pkt.timestamp, now)
        peer = self.peer
        forward = peer is not None and not self.muted and not self.held and not peer.held
        if pt == self.te_pt:
            self.seen_rfc4733 = True
            got = self.events.feed(pkt.timestamp, pkt.payload)
            if got is not None:
                self.on_digit(got.digit, "rfc4733")
            if forward and peer is not None:
                peer.forward_event(pkt.timestamp, pkt.payload, pkt.marker)
            return
        if pt not in (0, 8):
            return
        if forward and peer is not None:
            peer.forward_audio(pt, pkt.payload, pkt.marker)
        if self.amd is not None or self.inband is not None or (self.recorder and self.recorder.wants("in")):
            pcm = g711.decode(pt, pkt.payload)
            if self.recorder is not None:
                self.recorder.add("in", pcm, now)
            if self.inband is not None and not self.seen_rfc4733:
                for digit in self.inband.feed(pcm):
                    self.on_digit(digit, "inband")
            if self.amd is not None:
                self._feed_amd(pcm)

    def error_received(self, exc: Exception) -> None:
        log.debug("rtp socket error leg_id=%s error=%s", self.leg_id, exc)

    # ---- sending --------------------------------------------------------------------------
    def _timestamp(self, now: float, samples: int) -> tuple[int, bool]:
        """The RTP timestamp for a packet sent now carrying `samples`, and whether it starts a talkspurt."""
        marker = False
        if self.last_send is None:
            marker = True
        elif now - self.last_send > GAP_RESYNC:
            jump = round((now - self.last_send - PTIME) / PTIME) * g711.FRAME_SAMPLES
            self.next_ts = (self.next_ts + jump) & 0xFFFFFFFF
            marker = True
        ts = self.next_ts
        self.next_ts = (ts + samples) & 0xFFFFFFFF
        self.last_send = now
        return ts, marker

    def _send(self, pt: int, ts: int, payload: bytes, marker: bool) -> None:
        if self.remote is None or self.transport is None or self.closed:
            return
        self.seq = (self.seq + 1) & 0xFFFF
        self.transport.sendto(rtp.build(pt, self.seq, ts, self.ssrc, payload, marker), self.remote)
        self.packets_sent += 1

    def send_audio(self, payload: bytes, marker: bool = False, pcm: bytes | None = None) -> None:
        """Send one G.711 payload in this leg's codec."""
        now = self.loop.time()
        ts, jumped = self._timestamp(now, len(payload))
        self._send(int(self.codec), ts, payload, marker or jumped)
        if self.recorder is not None and self.recorder.wants("out"):
            self.recorder.add("out", pcm if pcm is not None else g711.decode(self.codec, payload), now)

    @property
    def busy(self) -> bool:
        """True while a prompt or digits own the outgoing stream (bridged audio is dropped)."""
        return bool(self.prompts or self.digit_queue or self._event is not None or self._gap_ticks)

    def forward_audio(self, pt: int, payload: bytes, marker: bool) -> None:
        """Audio from the bridge peer."""
        if self.busy or self.closed:
            return
        self.send_audio(g711.transcode(pt, self.codec, payload), marker)

    def forward_event(self, ts_in: int, payload: bytes, marker: bool) -> None:
        """A telephone-event packet from the bridge peer: keep one outgoing timestamp per event."""
        if self.busy or self.closed or self.te_pt is None:
            return
        if self._fwd_event is None or self._fwd_event[0] != ts_in:
            ts_out, _ = self._timestamp(self.loop.time(), 0)
            self._fwd_event = (ts_in, ts_out)
        else:
            self.last_send = self.loop.time()
        self._send(self.te_pt, self._fwd_event[1], payload, marker)

    def _start_clock(self) -> None:
        if self._clock is None and not self.closed:
            self._next_tick = self.loop.time()
            self._tick()

    def _tick(self) -> None:
        self._clock = None
        if self.closed:
            return
        if not self._tick_once():
            return
        now = self.loop.time()
        self._next_tick += PTIME
        if self._next_tick < now - 0.1:  # we fell far behind (a stalled loop): do not burst
            self._next_tick = now
        self._clock = self.loop.call_at(self._next_tick, self._tick)

    def _tick_once(self) -> bool:
        """Send what is due this 20 ms; returns False when there is nothing left to send."""
        if self._gap_ticks:
            self._gap_ticks -= 1
            return True
        if self._event is not None or self.digit_queue:
            self._send_event_step()
            return True
        while self.prompts:
            prompt = self.prompts[0]
            frame = prompt.next_frame()
            if frame is not None:
                self.send_audio(g711.encode(self.codec, frame), pcm=frame)
                return True
            self.prompts.popleft()
            self.notify(base.PLAY_COMPLETED, {"play_id": prompt.play_id, "reason": "finished"})
        return False

    def _send_event_step(self) -> None:
        if self._event is None:
            digit, duration_ms = self.digit_queue.popleft()
            ts, _ = self._timestamp(self.loop.time(), 0)
            self._event = (ts, event_payloads(digit, duration_ms), 0)
        ts, packets, index = self._event
        marker, payload = packets[index]
        if self.te_pt is not None:
            self._send(self.te_pt, ts, payload, marker)
        self.last_send = self.loop.time()
        if index + 1 < len(packets):
            self._event = (ts, packets, index + 1)
            return
        duration = int.from_bytes(payload[2:4], "big")
        self.next_ts = (ts + duration) & 0xFFFFFFFF
        self._event = None
        self._gap_ticks = 3  # 60 ms between digits
        if not self.digit_queue:
            self.notify(base.DIGITS_SENT, {})

    def _send_rtcp(self) -> None:
        if self.closed:
            return
        target = self.rtcp_seen or (None if self.remote is None else (self.remote[0], self.remote[1] + 1))
        if target is not None and self.rtcp_transport is not None:
            self.rtcp_transport.sendto(build_receiver_report(self.ssrc, self.stats), target)
        self._rtcp_timer = self.loop.call_later(RTCP_INTERVAL, self._send_rtcp)

    # ---- actions --------------------------------------------------------------------------
    def bridge(self, other: Channel) -> None:
        self.peer, other.peer = other, self

    def unbridge(self) -> None:
        if self.peer is not None:
            self.peer.peer = None
            self.peer = None

    def play(self, pcm: bytes, loop: int) -> str:
        play_id = f"play-{next(_ids)}"
        self.prompts.append(Prompt(play_id, pcm, loop))
        self._start_clock()
        return play_id

    def stop_play(self, reason: str = "stopped") -> None:
        while self.prompts:
            self.notify(base.PLAY_COMPLETED, {"play_id": self.prompts.popleft().play_id, "reason": reason})

    def send_digits(self, digits: str, duration_ms: int) -> None:
        self.digit_queue.extend((d, duration_ms) for d in digits)
        self._start_clock()

    def start_recording(self, path: Path, direction: str) -> str:
        if self.recorder is not None:
            raise base.MediaError("conflict", "already recording")
        rec_id = f"rec-{next(_ids)}"
        self.recorder = Recorder(rec_id, path, direction, self.loop.time())
        return rec_id

    def stop_recording(self, reason: str = "stopped") -> dict[str, Any]:
        rec = self.recorder
        if rec is None:
            raise base.MediaError("conflict", "not recording")
        self.recorder = None
        duration_ms = rec.finish(self.loop.time())
        result = {"recording_id": rec.recording_id, "path": str(rec.path), "duration_ms": duration_ms,
                  "direction": rec.direction, "reason": reason}
        self.notify(base.RECORDING_COMPLETED, result)
        return result

    def start_gather(self, num_digits: int | None, timeout: float, finish_on_key: str | None) -> None:
        if self.gather is not None:
            raise base.MediaError("conflict", "a gather is already running")
        try:
            self.gather = Gather(num_digits, timeout, finish_on_key, self.loop.time())
        except ValueError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        if not self.seen_rfc4733 and self.inband is None:
            self.inband = DtmfDetector()
        self._arm_gather_timer()

    def _arm_gather_timer(self) -> None:
        if self._gather_timer is not None:
            self._gather_timer.cancel()
        if self.gather is not None:
            self._gather_timer = self.loop.call_at(self.gather.deadline, self._gather_clock)

    def _gather_clock(self) -> None:
        self._gather_timer = None
        if self.gather is None:
            return
        result = self.gather.on_clock(self.loop.time())
        if result is not None:
            self._finish_gather(result)
        else:
            self._arm_gather_timer()

    def _finish_gather(self, result: GatherResult) -> None:
        self.gather = None
        if self._gather_timer is not None:
            self._gather_timer.cancel()
            self._gather_timer = None
        if not self.always_inband:
            self.inband = None
        self.notify(base.GATHER_COMPLETED, {"digits": result.digits, "reason": result.reason})

    def on_digit(self, digit: str, source: str) -> None:
        self.notify(base.DTMF_RECEIVED, {"digit": digit, "source": source})
        if self.gather is not None:
            result = self.gather.on_digit(digit, self.loop.time())
            if result is not None:
                self._finish_gather(result)
            else:
                self._arm_gather_timer()

    def start_amd(self, params: AmdParams) -> None:
        if self.amd is not None:
            raise base.MediaError("conflict", "AMD is already running")
        self.amd = AmdDetector(params)
        # If the far end sends no audio at all, still give a verdict (frames never arrive to decide).
        cap = (params.total_analysis_time_ms + 1000) / 1000
        self._amd_timer = self.loop.call_later(cap, self._amd_no_audio)

    def _feed_amd(self, pcm: bytes) -> None:
        amd = self.amd
        if amd is None:
            return
        for verdict in amd.feed(pcm):
            if self._amd_timer is not None:
                self._amd_timer.cancel()
                self._amd_timer = None
            self.notify(base.AMD_RESULT, verdict.to_dict())
        if amd.done:
            self.amd = None

    def _amd_no_audio(self) -> None:
        self._amd_timer = None
        amd = self.amd
        if amd is None or amd.verdict is not None:
            return
        missing = amd.params.total_analysis_time_ms - amd.elapsed_ms
        if missing > 0:  # stand in silence for the audio that never came
            self._feed_amd(b"\x00\x00" * (missing * 8))
        if self.amd is not None and self.amd.verdict is None:
            self.amd = None
            self.notify(base.AMD_RESULT, {"answered_by": str(amd.params.undecided), "reason": "NOAUDIO",
                                          "decision_ms": amd.elapsed_ms, "initial_silence_ms": amd.elapsed_ms,
                                          "greeting_ms": 0, "words": 0, "beep_hz": None, "beep_ms": None,
                                          "confidence": 0.5})
