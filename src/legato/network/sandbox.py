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
"""

from __future__ import annotations

from dataclasses import dataclass

from legato.domain import machine as m
from legato.domain.clock import Clock, TimerHandle
from legato.domain.leg import AnsweredBy, HangupSource
from legato.network.base import DialRequest, InboundHandler, SignalSink


@dataclass(frozen=True, slots=True)
class SandboxDelays:
    """Seconds (in clock time) the simulated network takes."""

    ring_after: float = 1.0
    answer_after: float = 2.0
    far_hangup_after: float = 5.0
    amd_after: float = 1.5


_FAILURES = {"0001": (486, "Busy Here"), "0003": (404, "Not Found"), "0008": (503, "Service Unavailable")}
_VERDICTS = {"0004": AnsweredBy.MACHINE, "0005": AnsweredBy.BEEP}


class SandboxNetwork:
    """A Network whose far ends behave by magic number."""

    name = "sandbox"

    def __init__(self, clock: Clock, delays: SandboxDelays | None = None) -> None:
        self.clock = clock
        self.delays = delays or SandboxDelays()
        self._signals: SignalSink = lambda leg_sid, signal: None
        self._timers: dict[str, list[TimerHandle]] = {}

    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        self._signals = signals

    async def stop(self) -> None:
        for leg_sid in list(self._timers):
            self._forget(leg_sid)

    def dial(self, request: DialRequest) -> None:
        digits = "".join(ch for ch in request.destination if ch.isdigit())
        magic = digits[-4:]
        leg_sid = request.leg_sid
        d = self.delays
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

    def attach_leg(self, call_ref: str, leg_sid: str) -> None:
        """Sandbox inbound calls are created through the API, already bound to their leg."""

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Simulated calls carry no audio: nothing to connect."""

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Nothing to disconnect."""

    def _later(self, leg_sid: str, seconds: float, signal: m.Input, *, last: bool = False) -> None:
        def fire() -> None:
            if last:
                self._forget(leg_sid)
            self._signals(leg_sid, signal)

        self._timers.setdefault(leg_sid, []).append(self.clock.call_later(seconds, fire))

    def _forget(self, leg_sid: str) -> None:
        for timer in self._timers.pop(leg_sid, []):
            timer.cancel()
