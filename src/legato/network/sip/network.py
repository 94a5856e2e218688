"""SipNetwork: the real SIP backend behind the Network interface (network/base.py), on the asyncio side.

Methods run on the asyncio loop and never block: they hand work to the sippy thread (reactor.py);
signals come back on the loop through the sink given to `start`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from legato.domain import causes
from legato.domain.machine import Answered, FailedToCreate, Input
from legato.network.base import DialRequest, InboundCall, InboundHandler, SignalSink
from legato.network.sip.agent import Agent
from legato.network.sip.config import SipConfig
from legato.network.sip.dialog import InboundDialog
from legato.network.sip.ports import PortsExhausted, RtpPorts
from legato.network.sip.reactor import Reactor
from legato.network.sip.route import NoRoute, route_for
from legato.network.sip.sdp import AnswerFactory, OfferFactory, g711_answer, g711_offer

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LegMedia:
    """What the SIP network knows about a live leg's media."""

    rtp_port: int | None = None
    local_sdp: str | None = None
    remote_sdp: str | None = None


class SipNetwork:
    """Legs as real SIP calls through sippy. One instance per process (sippy's event loop is a singleton)."""

    name = "sip"

    def __init__(self, config: SipConfig, *, offer: OfferFactory = g711_offer,
                 answer: AnswerFactory = g711_answer) -> None:
        self.config = config
        self.make_offer = offer
        self.make_answer = answer
        self.ports = RtpPorts(config.rtp_port_min, config.rtp_port_max)
        self._signals: SignalSink | None = None
        self._inbound: InboundHandler | None = None
        self._reactor: Reactor | None = None
        self._agent: Agent | None = None
        self._media: dict[str, LegMedia] = {}
        self._inbound_legs: set[str] = set()

    # -- life --
    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        """Bind the SIP socket and start sippy's thread."""
        loop = asyncio.get_running_loop()
        self._signals, self._inbound = signals, inbound
        reactor = Reactor(loop)
        agent = Agent(self.config, self.ports, self._report_from_sippy, self._offer_from_sippy)
        await loop.run_in_executor(None, reactor.start, agent.bind)
        self._reactor, self._agent = reactor, agent
        log.info("sip network listening on %s:%d (contact %s:%d)", self.config.listen_host,
                 self.config.listen_port, self.config.contact_host, self.config.contact_port)

    async def stop(self) -> None:
        """End every call still up (CANCEL/BYE/480), then close the socket and stop sippy's thread."""
        reactor, agent = self._reactor, self._agent
        if reactor is None or agent is None:
            return
        reactor.call(agent.end_all)
        await asyncio.sleep(0.1)  # let the CANCELs and BYEs leave the socket
        await asyncio.get_running_loop().run_in_executor(None, reactor.stop, agent.shutdown)
        self._reactor = self._agent = None
        self._media.clear()
        self._inbound_legs.clear()

    @property
    def live_legs(self) -> int:
        """Legs this network still tracks (asyncio side)."""
        return len(self._media)

    # -- outbound --
    def dial(self, request: DialRequest) -> None:
        """Send an INVITE for the leg; failures to even start arrive as FailedToCreate."""
        leg_sid = request.leg_sid
        try:
            route = route_for(request, self.config)
        except NoRoute as exc:
            self._later(leg_sid, FailedToCreate(str(exc), q850=causes.UNALLOCATED_NUMBER))
            return
        try:
            port = self.ports.take()
        except PortsExhausted:
            self._later(leg_sid, FailedToCreate("no free RTP port", q850=causes.SWITCH_CONGESTION))
            return
        offer = self.make_offer(self.config.contact_host, port)
        self._media[leg_sid] = LegMedia(rtp_port=port, local_sdp=offer)
        reactor, agent = self._running()
        reactor.call(agent.dial, leg_sid, route, port, offer)

    def cancel(self, leg_sid: str) -> None:
        """CANCEL a call not yet answered (an inbound ringing one gets 480)."""
        self._hang_up(leg_sid)

    def bye(self, leg_sid: str) -> None:
        """BYE an answered call."""
        self._hang_up(leg_sid)

    def _hang_up(self, leg_sid: str) -> None:
        self._media.pop(leg_sid, None)
        self._inbound_legs.discard(leg_sid)
        if self._reactor is not None and self._agent is not None:
            self._reactor.call(self._agent.hang_up, leg_sid)

    # -- inbound --
    def answer(self, leg_sid: str) -> None:
        """Answer an inbound ringing call: 200 OK with an SDP answer."""
        reactor, agent = self._running()
        reactor.call(agent.answer, leg_sid, self.make_answer)

    def reject(self, leg_sid: str, sip_code: int) -> None:
        """Refuse an inbound ringing call with `sip_code`."""
        self._media.pop(leg_sid, None)
        self._inbound_legs.discard(leg_sid)
        reactor, agent = self._running()
        reactor.call(agent.reject, leg_sid, sip_code)

    def attach_leg(self, call_ref: str, leg_sid: str) -> None:
        """Bind an inbound call to its leg (the inbound handler's return value does the same)."""
        if leg_sid in self._inbound_legs:
            return
        self._inbound_legs.add(leg_sid)
        self._media.setdefault(leg_sid, LegMedia())
        reactor, agent = self._running()
        reactor.call(agent.ring_inbound, call_ref, leg_sid)

    # -- media facts --
    def answer_sdp(self, leg_sid: str) -> str | None:
        """The SDP answer of the leg's call: the far end's 200 (outbound) or ours (inbound)."""
        media = self._media.get(leg_sid)
        if media is None:
            return None
        return media.local_sdp if leg_sid in self._inbound_legs else media.remote_sdp

    def remote_sdp(self, leg_sid: str) -> str | None:
        """The far end's SDP (its answer, or the offer of an inbound INVITE)."""
        media = self._media.get(leg_sid)
        return media.remote_sdp if media else None

    def rtp_port(self, leg_sid: str) -> int | None:
        """The local RTP port the leg owns."""
        media = self._media.get(leg_sid)
        return media.rtp_port if media else None

    # -- plumbing --
    def _running(self) -> tuple[Reactor, Agent]:
        if self._reactor is None or self._agent is None:
            raise RuntimeError("the SIP network is not started")
        return self._reactor, self._agent

    def _later(self, leg_sid: str, signal: Input) -> None:
        asyncio.get_running_loop().call_soon(self._emit, leg_sid, signal)

    def _emit(self, leg_sid: str, signal: Input) -> None:
        if self._signals is not None:
            try:
                self._signals(leg_sid, signal)
            except Exception:
                log.exception("signal sink failed leg_sid=%s signal=%r", leg_sid, signal)

    def _report_from_sippy(self, leg_sid: str, signal: Input | None, **info: Any) -> None:
        """Called on the sippy thread; moves the report onto the loop."""
        reactor = self._reactor
        if reactor is not None:
            reactor.deliver(self._on_report, leg_sid, signal, info)

    def _on_report(self, leg_sid: str, signal: Input | None, info: dict[str, Any]) -> None:
        media = self._media.get(leg_sid)
        if media is not None:
            if info.get("remote_sdp") is not None:
                media.remote_sdp = info["remote_sdp"]
            if info.get("local_sdp") is not None:
                media.local_sdp = info["local_sdp"]
        if info.get("ended"):
            self._media.pop(leg_sid, None)
            self._inbound_legs.discard(leg_sid)
        if isinstance(signal, Answered) and media is not None and media.remote_sdp:
            signal = Answered(sdp=media.remote_sdp)
        if signal is not None:
            self._emit(leg_sid, signal)

    def _offer_from_sippy(self, dialog: InboundDialog) -> None:
        """Called on the sippy thread for a new inbound INVITE."""
        reactor = self._reactor
        if reactor is not None:
            reactor.deliver(self._on_inbound, dialog.call_ref, dialog.caller, dialog.called)

    def _on_inbound(self, call_ref: str, caller: str, called: str) -> None:
        reactor, agent = self._running()
        leg_sid: str | None = None
        if self._inbound is not None:
            try:
                leg_sid = self._inbound(InboundCall(call_ref=call_ref, caller=caller, called=called))
            except Exception:
                log.exception("inbound handler failed call_ref=%s", call_ref)
        if leg_sid is None:
            reactor.call(agent.ring_inbound, call_ref, None)
            return
        self.attach_leg(call_ref, leg_sid)

    def account_sid_for(self, called: str) -> str | None:
        """The account owning an exophone (number in E.164 or SIP URI), per the config."""
        exophone = self.config.exophone(called)
        return exophone.account_sid if exophone else None
