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

Media actions on answered legs are simulated on the same clock (no audio flows): what the far end does for
each is said in its module of app/actions/ (its `simulate`, through network/sandbox_leg.py `SandboxLeg`).

Transfers (`transfer` action). Blind: the far end of the leg takes the REFER, unless the leg's own number
ends in 0010 (it refuses: SIP 603, `transfer_failed`, the leg stays up); the target `to` then behaves by
its last four digits: 0001, 0003, 0008 fail as above (the NOTIFY carries 486, 404, 503), 0002 and 0006
fail with 480 after ring_after + far_hangup_after s, any other number answers after ring_after +
answer_after s (`transfer_answered`, `transfer_completed`, the leg ends, cause `transferred`).
Attended: the new leg to `to` is an ordinary sandbox leg, so the table above decides its fate.

Conferences carry no voices either: a recorded conference ends with a WAV of silence as long as it ran,
named `<conference_sid>.wav` in the account's recordings folder, holding the notification tones (Twilio's
`beep`) where they were played, as a real mix's recording does; `tones` lists each live conference's tones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from legato.domain import machine as m
from legato.domain.clock import Clock, TimerHandle
from legato.domain.leg import AnsweredBy, HangupSource
from legato.media.player import conference_tone
from legato.network.base import DialRequest, InboundHandler, MediaCommand, SignalSink
from legato.network.sandbox_audio import SilenceWriter, write_silence
from legato.network.sandbox_leg import SandboxDelays, SandboxLeg
from legato.network.sandbox_streams import SandboxStreams

__all__ = ["SandboxDelays", "SandboxLeg", "SandboxNetwork"]

SILENT_KEYS = "0009"  # numbers ending so never key anything into a gather
REFUSES_TRANSFER = "0010"  # legs to numbers ending so refuse a blind transfer (REFER answered 603)
INBOUND_KEYS = "1234"
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
        self._legs: dict[str, SandboxLeg] = {}  # the far ends media actions acted on
        self._magic: dict[str, str] = {}  # leg_sid -> the last four digits it was dialled to
        self._conferences: dict[str, tuple[float, str]] = {}  # recorded conference -> (started, folder)
        self.tones: dict[str, list[tuple[float, str]]] = {}  # live conference -> (clock seconds, enter|exit)
        self.streams = SandboxStreams(self.recordings_dir, cache_dir or Path("media-cache"))
        self.files = SilenceWriter()  # leg recordings, written off the loop

    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        self._signals = signals
        self.streams.signals = signals

    async def stop(self) -> None:
        for leg_sid in list(self._timers):
            self._forget(leg_sid)
        await self.files.drain()

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

        def answered() -> None:  # what the far end does next counts from its answer, as the leg saw it
            if request.amd_enable:
                self._later(leg_sid, d.amd_after, m.AmdResult(_VERDICTS.get(magic, AnsweredBy.HUMAN)))
            if magic == "0007":
                self._later(leg_sid, d.far_hangup_after,
                            m.Ended(sip_code=None, q850=16, reason="BYE", source=HangupSource.CALLEE), last=True)

        self._later(leg_sid, d.ring_after + d.answer_after, m.Answered(), then=answered)

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

    def conference_beep(self, conference_sid: str, kind: str) -> None:
        """No audio to mix: the tone is kept (`tones`, and the recording holds it)."""
        self.tones.setdefault(conference_sid, []).append((self._seconds(), kind))

    async def conference_end(self, conference_sid: str) -> dict[str, Any] | None:
        """A recorded conference's recording: silence as long as it ran, with its tones."""
        tones = self.tones.pop(conference_sid, [])
        started = self._conferences.pop(conference_sid, None)
        if started is None:
            return None
        name = f"{conference_sid}.wav"
        sounds = [(at - started[0], conference_tone(kind)) for at, kind in tones]
        frames = await asyncio.to_thread(write_silence, self.recordings_dir / started[1], name,
                                         self._seconds() - started[0], sounds)
        return {"file": name, "duration_ms": frames // 8}

    def _later(self, leg_sid: str, seconds: float, signal: m.Input, *, last: bool = False,
               then: Callable[[], None] | None = None) -> None:
        """Signal `signal` for the leg in `seconds`; `then` runs right after it (the next steps of the far end)."""
        def fire() -> None:
            if last:
                self._forget(leg_sid)
            self._signals(leg_sid, signal)
            if then is not None and leg_sid in self._magic:  # not when the signal ended the leg
                then()

        self._timers.setdefault(leg_sid, []).append(self.clock.call_later(seconds, fire))

    def _forget(self, leg_sid: str) -> None:
        for timer in self._timers.pop(leg_sid, []):
            timer.cancel()
        self._keys.pop(leg_sid, None)
        self._magic.pop(leg_sid, None)
        self.streams.drop(leg_sid)
        far_end = self._legs.pop(leg_sid, None)
        if far_end is not None:
            far_end.end()

    # -- media --
    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Simulate an action on the leg's audio (its `simulate`, app/actions/)."""
        return await command.simulate(self.far_end(leg_sid))

    def far_end(self, leg_sid: str) -> SandboxLeg:
        """The leg's simulated far end (made on its first media action)."""
        far_end = self._legs.get(leg_sid)
        if far_end is None:
            far_end = self._legs[leg_sid] = SandboxLeg(
                leg_sid, self._keys.get(leg_sid, INBOUND_KEYS), self.clock, self.delays, self.streams,
                self.recordings_dir, lambda signal: self._signals(leg_sid, signal), self.files)
        return far_end

    def _seconds(self) -> float:
        return self.clock.now().timestamp()
