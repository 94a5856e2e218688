"""The sandbox: a simulated PSTN chosen by the last four digits of the destination.

| ends in | what happens                                   | leg ends                      |
|---------|------------------------------------------------|-------------------------------|
| 0001    | busy: SIP 486                                  | busy, Q.850 17                |
| 0002    | rings, never answers                           | no-answer (ring_timeout)      |
| 0003    | unallocated number: SIP 404                    | failed, Q.850 1               |
| 0004    | answered by a machine                          | (up until hung up)            |
| 0005    | answered by a machine ending in a beep         | (up until hung up)            |
| 0006    | never rings                                    | failed (setup_timeout)        |
| 0007    | answered, far end hangs up after 5 s           | completed, Q.850 16           |
| 0008    | network congestion: SIP 503                    | failed, Q.850 41              |
| other   | rings after 1 s, human answers 2 s later       | (up until hung up/time_limit) |

Delays are settings and run on the injected clock, so `--time-scale` speeds them up too.

Media actions on answered legs are simulated on the same clock (no audio flows):

| action          | what the simulated far end does                                                  |
|-----------------|----------------------------------------------------------------------------------|
| play            | `play_completed` after the WAV's length x loop (loop 0: only stop_play ends it)  |
| say             | `play_completed` after play_seconds per started 10 characters of text            |
| stop_play       | every queued prompt ends now, reason `stopped`                                   |
| gather          | the caller keys the last four digits of its number, then `#`: one key every      |
|                 | key_interval s, the first one key_interval s after the gather starts (a leg made |
|                 | through /sandbox/incoming keys 1234#); a number ending in 0009 never keys        |
|                 | anything (the gather times out). `dtmf_received` for each key. The caller is     |
|                 | silent: with silence_timeout the gather ends, reason silence, that long after it |
|                 | started or after the last key                                                    |
| gather (speech) | input speech or "dtmf speech" on a leg created with `sandbox_speech`: the caller |
|                 | starts speaking key_interval s after the gather starts, speaks for speech_word_s |
|                 | per word, then is silent: `gather_completed` reason speech after speech_timeout  |
|                 | (auto: 1 s) with speech_result = sandbox_speech as given and confidence 1.0 (not |
|                 | recognised from audio). Without sandbox_speech the caller says nothing: input    |
|                 | speech times out; "dtmf speech" keys as for digits                               |
| start/stop_     | `recording_completed` on stop (or hangup) with a WAV of silence as long as the   |
|  recording      | recording ran, under the recordings folder, so its URL serves a real file; with  |
|                 | transcribe, then `transcription_completed` with text = sandbox_speech (or "");   |
|                 | with beep the recording starts 0.5 s later (the beep is not simulated as audio)  |
| send_digits     | `digits_sent` after 0.16 s per digit                                             |
| mute, hold...   | accepted, nothing to simulate                                                    |
| start_stream,   | a real WebSocket to the application; the far end speaks and keys what the leg's  |
|  stop_stream    | `sandbox_far_end` says, what the application sends is recorded (network/         |
|                 | sandbox_streams.py)                                                              |

Transfers (`transfer` action). Blind: the far end of the leg takes the REFER, unless the leg's own number
ends in 0010 (it refuses: SIP 603, `transfer_failed`, the leg stays up); the target `to` then behaves by
its last four digits: 0001, 0003, 0008 fail as above (the NOTIFY carries 486, 404, 503), 0002 and 0006
fail with 480 after ring_after + far_hangup_after s, any other number answers after ring_after +
answer_after s (`transfer_answered`, `transfer_completed`, the leg ends, cause `transferred`).
Attended: the new leg to `to` is an ordinary sandbox leg, so the table above decides its fate.

Conferences carry no audio either: a recorded conference ends with a WAV of silence as long as it ran,
named `<conference_sid>.wav` in the account's recordings folder.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from legato.domain import machine as m
from legato.domain.clock import Clock, TimerHandle
from legato.domain.errors import Conflict, ValidationFailed
from legato.domain.leg import AnsweredBy, HangupSource
from legato.media.gather import AUTO_SPEECH_TIMEOUT
from legato.media.player import BEEP_SECONDS
from legato.network.base import DialRequest, InboundHandler, MediaCommand, SignalSink
from legato.network.sandbox_audio import wav_seconds, write_silence
from legato.network.sandbox_streams import SandboxStreams

SILENT_KEYS = "0009"  # numbers ending so never key anything into a gather
REFUSES_TRANSFER = "0010"  # legs to numbers ending so refuse a blind transfer (REFER answered 603)
INBOUND_KEYS = "1234"
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class SandboxDelays:
    """Seconds (in clock time) the simulated network takes."""

    ring_after: float = 1.0
    answer_after: float = 2.0
    far_hangup_after: float = 5.0
    amd_after: float = 1.5
    play_seconds: float = 2.0
    key_interval: float = 0.3
    speech_word_s: float = 0.4  # the simulated caller speaks one word in this many seconds


@dataclass(slots=True)
class _LegMedia:
    """What the simulated far end of one leg is doing with audio."""

    keys: str  # what the caller keys into a gather
    prompts: list[tuple[str, TimerHandle | None]] = field(default_factory=list)  # (play_id, end timer)
    prompts_end: float = 0.0  # clock time (monotonic seconds) when the queued prompts finish
    recording: tuple[str, float, str, str | None] | None = None  # (id, started, direction, folder)
    transcript: str | None = None  # the running recording is transcribed as this ("" when the far end is silent)
    gather: list[TimerHandle] = field(default_factory=list)


_FAILURES = {"0001": (486, "Busy Here"), "0003": (404, "Not Found"), "0008": (503, "Service Unavailable")}
_VERDICTS = {"0004": AnsweredBy.MACHINE, "0005": AnsweredBy.BEEP}


class SandboxNetwork:
    """A Network whose far ends behave by magic number."""

    name = "sandbox"
    confirms_hangup = False  # its far end takes every hangup at once

    def __init__(self, clock: Clock, delays: SandboxDelays | None = None, *,
                 recordings_dir: Path | None = None, cache_dir: Path | None = None) -> None:
        self.clock = clock
        self.delays = delays or SandboxDelays()
        self.recordings_dir = recordings_dir or Path("recordings")
        self._signals: SignalSink = lambda leg_sid, signal: None
        self._timers: dict[str, list[TimerHandle]] = {}
        self._keys: dict[str, str] = {}  # leg_sid -> what its caller keys into a gather
        self._media: dict[str, _LegMedia] = {}
        self._magic: dict[str, str] = {}  # leg_sid -> the last four digits it was dialled to
        self._conferences: dict[str, tuple[float, str]] = {}  # recorded conference -> (started, folder)
        self.streams = SandboxStreams(self.recordings_dir, cache_dir or Path("media-cache"))

    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        self._signals = signals
        self.streams.signals = signals

    async def stop(self) -> None:
        for leg_sid in list(self._timers):
            self._forget(leg_sid)

    def dial(self, request: DialRequest) -> None:
        digits = "".join(ch for ch in request.destination if ch.isdigit())
        magic = digits[-4:]
        leg_sid = request.leg_sid
        d = self.delays
        self._keys[leg_sid] = "" if magic == SILENT_KEYS else magic
        self._magic[leg_sid] = magic
        if magic == "0006":
            return  # silence: the setup timer ends it
        if magic in _FAILURES:
            code, reason = _FAILURES[magic]
            self._later(leg_sid, d.ring_after, m.Ended(sip_code=code, reason=reason), last=True)
            return
        self._later(leg_sid, d.ring_after, m.Ringing())
        if magic == "0002":
            return
        answer_at = d.ring_after + d.answer_after
        self._later(leg_sid, answer_at, m.Answered())
        if request.amd_enable:
            verdict = _VERDICTS.get(magic, AnsweredBy.HUMAN)
            self._later(leg_sid, answer_at + d.amd_after, m.AmdResult(verdict))
        if magic == "0007":
            self._later(leg_sid, answer_at + d.far_hangup_after,
                        m.Ended(sip_code=None, q850=16, reason="BYE", source=HangupSource.CALLEE), last=True)

    def cancel(self, leg_sid: str) -> None:
        self._forget(leg_sid)

    def bye(self, leg_sid: str) -> None:
        self._forget(leg_sid)

    def answer(self, leg_sid: str) -> None:
        """Inbound sandbox calls need nothing from the far end to be answered."""

    def reject(self, leg_sid: str, sip_code: int) -> None:
        self._forget(leg_sid)

    def trunk_for(self, destination_kind: str, caller_id: str) -> str:
        """The sandbox is one trunk."""
        return "sandbox"

    def attach_leg(self, call_ref: str, leg_sid: str) -> None:
        """Sandbox inbound calls are created through the API, already bound to their leg."""

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Simulated calls carry no audio: nothing to connect."""

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Nothing to disconnect."""

    def refer(self, leg_sid: str, target: DialRequest) -> None:
        """Simulate a blind transfer (rules at the top)."""
        d = self.delays
        if self._magic.get(leg_sid) == REFUSES_TRANSFER:
            self._later(leg_sid, 0.0, m.TransferUpdate("failed", sip_code=603, reason="Decline"))
            return
        magic = "".join(ch for ch in target.destination if ch.isdigit())[-4:]
        if magic in _FAILURES:
            code, reason = _FAILURES[magic]
            self._later(leg_sid, d.ring_after, m.TransferUpdate("failed", sip_code=code, reason=reason))
        elif magic in ("0002", "0006"):
            self._later(leg_sid, d.ring_after + d.far_hangup_after,
                        m.TransferUpdate("failed", sip_code=480, reason="Temporarily Unavailable"))
        else:
            self._later(leg_sid, d.ring_after + d.answer_after, m.TransferUpdate("completed", sip_code=200))


    def conference_mix(self, conference_sid: str, members: list[dict[str, Any]], record_folder: str | None) -> None:
        """No audio to mix; remember when a recorded conference started."""
        if record_folder is not None and conference_sid not in self._conferences:
            self._conferences[conference_sid] = (self._seconds(), record_folder)

    async def conference_end(self, conference_sid: str) -> dict[str, Any] | None:
        """A recorded conference's recording: silence as long as it ran."""
        started = self._conferences.pop(conference_sid, None)
        if started is None:
            return None
        name = f"{conference_sid}.wav"
        frames = await asyncio.to_thread(write_silence, self.recordings_dir / started[1], name,
                                         self._seconds() - started[0])
        return {"file": name, "duration_ms": frames // 8}

    def _later(self, leg_sid: str, seconds: float, signal: m.Input, *, last: bool = False) -> None:
        def fire() -> None:
            if last:
                self._forget(leg_sid)
            self._signals(leg_sid, signal)

        self._timers.setdefault(leg_sid, []).append(self.clock.call_later(seconds, fire))

    def _forget(self, leg_sid: str) -> None:
        for timer in self._timers.pop(leg_sid, []):
            timer.cancel()
        self._keys.pop(leg_sid, None)
        self._magic.pop(leg_sid, None)
        self.streams.drop(leg_sid)
        media = self._media.pop(leg_sid, None)
        if media is not None:
            for _, timer in media.prompts:
                if timer is not None:
                    timer.cancel()
            for timer in media.gather:
                timer.cancel()
            if media.recording is not None:
                self._finish_recording(leg_sid, media, "hangup")

    # -- media --
    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Simulate an action on the leg's audio (see the table at the top)."""
        media = self._media.get(leg_sid)
        if media is None:
            media = self._media[leg_sid] = _LegMedia(keys=self._keys.get(leg_sid, INBOUND_KEYS))
        handler = _MEDIA.get(command.kind)
        if handler is None:
            raise ValidationFailed(f"unknown media action {command.kind!r}", field="action")
        result = handler(self, leg_sid, media, command)
        return await result if inspect.isawaitable(result) else result

    def _start_recording(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> dict[str, Any]:
        if media.recording is not None:
            raise Conflict("already recording", field="action")
        rec_id = f"rec-{next(_ids)}"
        media.recording = (rec_id, self._seconds() + (BEEP_SECONDS if command.beep else 0.0), command.direction,
                           command.folder)  # a beep plays first (nothing is heard here): the recording starts after it
        media.transcript = (command.far_end_speech or "") if command.transcribe else None
        return {"recording_id": rec_id}

    def _stop_recording(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> dict[str, Any]:
        if media.recording is None:
            raise Conflict("not recording", field="action")
        return self._finish_recording(leg_sid, media, "stopped")

    def _send_digits(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> dict[str, Any]:
        count = len(command.digits or "")
        self._later(leg_sid, 0.16 * count, m.MediaEvent("digits_sent", {"digits": command.digits}))
        return {}

    def _seconds(self) -> float:
        return self.clock.now().timestamp()

    def _play(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> str:
        play_id = f"play-{next(_ids)}"
        if command.kind == "say":
            seconds = self.delays.play_seconds * math.ceil(len(command.text or "") / 10)
        else:
            seconds = wav_seconds(command.path) if command.path else self.delays.play_seconds
        loop = command.loop
        now = self._seconds()
        timer: TimerHandle | None = None
        if loop > 0:
            media.prompts_end = max(now, media.prompts_end) + seconds * loop

            def done() -> None:
                media.prompts[:] = [p for p in media.prompts if p[0] != play_id]
                self._signals(leg_sid, m.MediaEvent("play_completed", {"play_id": play_id, "reason": "finished"}))

            timer = self.clock.call_later(media.prompts_end - now, done)
        media.prompts.append((play_id, timer))
        return play_id

    def _stop_play(self, leg_sid: str, media: _LegMedia, reason: str) -> None:
        prompts, media.prompts = media.prompts, []
        media.prompts_end = 0.0
        for play_id, timer in prompts:
            if timer is not None:
                timer.cancel()
            self._signals(leg_sid, m.MediaEvent("play_completed", {"play_id": play_id, "reason": reason}))

    def _gather(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> dict[str, Any]:
        if media.gather:
            raise Conflict("a gather is already running", field="action")
        if "speech" in command.input and (command.far_end_speech or command.input == "speech"):
            return self._speech_gather(leg_sid, media, command)
        keys = (media.keys + "#") if media.keys else ""
        pressed: list[str] = []
        interval = self.delays.key_interval

        def finish(reason: str) -> None:
            for timer in media.gather:
                timer.cancel()
            media.gather = []
            self._signals(leg_sid, m.MediaEvent("gather_completed", {"digits": "".join(pressed), "reason": reason}))

        def press(key: str) -> None:
            self._signals(leg_sid, m.MediaEvent("dtmf_received", {"digit": key, "source": "sandbox"}))
            if command.finish_on_key and key == command.finish_on_key:
                finish("finish_on_key")
                return
            pressed.append(key)
            if command.num_digits is not None and len(pressed) >= command.num_digits:
                finish("num_digits")
                return
            media.gather[-1].cancel()  # the inter-digit timeout starts again
            media.gather[-1] = self.clock.call_later(command.timeout, lambda: finish("timeout"))
            if command.silence_timeout is not None:  # a key is not silence
                media.gather[-2].cancel()
                media.gather[-2] = self.clock.call_later(command.silence_timeout, lambda: finish("silence"))

        media.gather = [self.clock.call_later(interval * (i + 1), lambda k=key: press(k))
                        for i, key in enumerate(keys)]
        if command.silence_timeout is not None:  # the simulated caller says nothing: silence ends it
            media.gather.append(self.clock.call_later(command.silence_timeout, lambda: finish("silence")))
        media.gather.append(self.clock.call_later(command.timeout + interval * len(keys), lambda: finish("timeout")))
        return {}

    def _speech_gather(self, leg_sid: str, media: _LegMedia, command: MediaCommand) -> dict[str, Any]:
        """The simulated caller says the leg's sandbox_speech (or nothing: the gather times out)."""
        text = command.far_end_speech or ""

        def finish() -> None:
            media.gather = []
            data: dict[str, Any] = {"digits": "", "reason": "speech" if text else "timeout"}
            if text:
                data.update(speech_result=text, confidence=1.0)
            self._signals(leg_sid, m.MediaEvent("gather_completed", data))

        if text:
            speaking = self.delays.key_interval + self.delays.speech_word_s * len(text.split())
            after = speaking + (command.speech_timeout or AUTO_SPEECH_TIMEOUT)
        else:
            after = command.timeout
        media.gather = [self.clock.call_later(after, finish)]
        return {}

    def _finish_recording(self, leg_sid: str, media: _LegMedia, reason: str) -> dict[str, Any]:
        assert media.recording is not None
        rec_id, started, direction, folder = media.recording
        media.recording = None
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{leg_sid}-{stamp}-{secrets.token_hex(3)}.wav"
        target = self.recordings_dir / folder if folder else self.recordings_dir
        frames = write_silence(target, name, self._seconds() - started)
        result = {"recording_id": rec_id, "file": name, "duration_ms": frames // 8, "direction": direction,
                  "reason": reason}
        self._signals(leg_sid, m.MediaEvent("recording_completed", result))
        if media.transcript is not None:
            text, media.transcript = media.transcript, None
            self._signals(leg_sid, m.MediaEvent("transcription_completed", {
                "recording_id": rec_id, "file": name, "status": "completed", "text": text,
                "confidence": 1.0 if text else 0.0}))
        return {"recording_id": rec_id, "duration_ms": frames // 8}


_Handler = Callable[[SandboxNetwork, str, _LegMedia, MediaCommand], "dict[str, Any] | Awaitable[dict[str, Any]]"]
_MEDIA: dict[str, _Handler] = {
    "play": lambda net, leg_sid, media, c: {"play_id": net._play(leg_sid, media, c)},
    "say": lambda net, leg_sid, media, c: {"play_id": net._play(leg_sid, media, c)},
    "stop_play": lambda net, leg_sid, media, c: net._stop_play(leg_sid, media, "stopped") or {},
    "start_recording": SandboxNetwork._start_recording, "stop_recording": SandboxNetwork._stop_recording,
    "gather": SandboxNetwork._gather, "send_digits": SandboxNetwork._send_digits,
    "mute": lambda *_: {}, "unmute": lambda *_: {}, "hold": lambda *_: {}, "unhold": lambda *_: {},
    "start_stream": lambda net, leg_sid, media, c: net.streams.start(leg_sid, c),
    "stop_stream": lambda net, leg_sid, media, c: net.streams.stop(leg_sid, c.stream_sid),
}
"""What the simulated far end does for each media action (the table at the top of this module)."""
