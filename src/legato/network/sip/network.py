"""SipNetwork: the real SIP backend behind the Network interface (network/base.py), on the asyncio side.

Methods run on the asyncio loop and never block: they hand work to the sippy thread (reactor.py);
signals come back on the loop through the sink given to `start`.

Every leg's audio is terminated by the media engine through the backend-neutral leg media session
(network/media_session.py): the SDP offer or answer carries the leg's allocation, the far end's SDP
is applied once known, and the allocation is released when the leg ends, whatever ended it. This
module keeps SIP only: routes, INVITE/CANCEL/BYE, SDP bookkeeping, inbound calls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from legato.domain import causes
from legato.domain.errors import Draining
from legato.domain.machine import Answered, FailedToCreate, Input, TransferUpdate
from legato.media.amd_params import AmdParams
from legato.media.base import Allocation, MediaEngine, RemoteMedia
from legato.network.base import DialRequest, InboundCall, InboundHandler, MediaCommand, SignalSink
from legato.network.media_session import MediaSessions
from legato.network.sip.agent import Agent
from legato.network.sip.config import SipConfig
from legato.network.sip.dialog import InboundDialog, Retarget
from legato.network.sip.reactor import Reactor
from legato.network.sip.route import NoRoute, route_for, trunk_name
from legato.network.sip.sdp import AnswerFactory, OfferFactory, g711_answer, g711_offer, remote_media

log = logging.getLogger(__name__)


class SipNetwork:
    """Legs as real SIP calls through sippy. One instance per process (sippy's event loop is a singleton)."""

    name = "sip"
    confirms_hangup = True  # the leg ends once its BYE/CANCEL went out (or could not: leg_hangup_failed)

    def __init__(self, config: SipConfig, media: MediaEngine, *, offer: OfferFactory = g711_offer,
                 answer: AnswerFactory = g711_answer, amd_params: AmdParams | None = None) -> None:
        self.config = config
        self.make_offer = offer
        self.make_answer = answer
        self.sessions = MediaSessions(media, self._emit, amd_params)
        self._signals: SignalSink | None = None
        self._inbound: InboundHandler | None = None
        self._reactor: Reactor | None = None
        self._agent: Agent | None = None
        self._inbound_legs: set[str] = set()

    @property
    def media_engine(self) -> MediaEngine:
        return self.sessions.engine

    # -- life --
    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        """Connect the media engine, bind the SIP socket and start sippy's thread."""
        loop = asyncio.get_running_loop()
        self._signals, self._inbound = signals, inbound
        await self.sessions.start()
        reactor = Reactor(loop)
        agent = Agent(self.config, self._report_from_sippy, self._offer_from_sippy)
        try:
            await loop.run_in_executor(None, reactor.start, agent.bind)
        except BaseException:
            await self.media_engine.close()
            raise
        self._reactor, self._agent = reactor, agent
        log.info("sip network listening on %s:%d (contact %s:%d)", self.config.listen_host,
                 self.config.listen_port, self.config.contact_host, self.config.contact_port)

    async def stop(self) -> None:
        """End every call still up (CANCEL/BYE/480), stop sippy's thread, release all media."""
        reactor, agent = self._reactor, self._agent
        if reactor is None or agent is None:
            return
        reactor.call(agent.end_all)
        await asyncio.sleep(0.1)  # let the CANCELs and BYEs leave the socket
        await asyncio.get_running_loop().run_in_executor(None, reactor.stop, agent.shutdown)
        self._reactor = self._agent = None
        self._inbound_legs.clear()
        await self.sessions.stop()

    @property
    def live_legs(self) -> int:
        """Legs this network still tracks (asyncio side)."""
        return len(self.sessions.legs)

    def gate_figures(self) -> dict[str, int]:
        """Counters of INVITEs refused from unlisted sources (see gate.py); read from the sippy thread's state."""
        return self._agent.gate_figures() if self._agent is not None else {}

    @property
    def media_legs(self) -> int:
        """Legs whose media allocation is not released yet."""
        return len(self.sessions.held)

    # -- outbound --
    def dial(self, request: DialRequest) -> None:
        """Allocate media, then send an INVITE with its SDP; failures to start arrive as FailedToCreate."""
        leg_sid = request.leg_sid
        try:
            route = route_for(request, self.config)
        except NoRoute as exc:
            self._later(leg_sid, FailedToCreate(str(exc), q850=causes.UNALLOCATED_NUMBER))
            return
        self._running()
        media = self.sessions.open(leg_sid, request)

        def invite(allocation: Allocation | None) -> None:
            if allocation is None:
                self._emit(leg_sid, FailedToCreate("no media for the leg (no free RTP port?)",
                                                   q850=causes.SWITCH_CONGESTION))
                return
            if not self.sessions.is_current(leg_sid, media) or self._reactor is None or self._agent is None:
                return  # hung up while we waited: the session releases it
            media.local_sdp = self.make_offer(allocation.address, allocation.port)
            self._reactor.call(self._agent.dial, leg_sid, route, media.local_sdp)

        self.sessions.allocate(leg_sid, media, invite)

    def cancel(self, leg_sid: str) -> None:
        """CANCEL a call not yet answered (an inbound ringing one gets 480)."""
        self._hang_up(leg_sid)

    def bye(self, leg_sid: str) -> None:
        """BYE an answered call."""
        self._hang_up(leg_sid)

    def _hang_up(self, leg_sid: str) -> None:
        self._drop(leg_sid)
        if self._reactor is not None and self._agent is not None:
            self._reactor.call(self._agent.hang_up, leg_sid)

    def _drop(self, leg_sid: str) -> None:
        self._inbound_legs.discard(leg_sid)
        self.sessions.drop(leg_sid)

    # -- inbound --
    def answer(self, leg_sid: str) -> None:
        """Answer an inbound ringing call: 200 OK with an SDP answer for the leg's media."""
        reactor, agent = self._running()
        media = self.sessions.get(leg_sid)
        if media is None:
            return

        async def answer_with_media() -> None:
            if media.allocating is not None:
                await media.allocating
            allocation = media.allocation
            if allocation is None or not self.sessions.is_current(leg_sid, media):
                return
            media.local_sdp = self.make_answer(media.remote_sdp or "", allocation.address, allocation.port)
            reactor.call(agent.answer, leg_sid, media.local_sdp)
            await self.sessions.connect_now(leg_sid, media, _remote(media.remote_sdp))

        media.setup = self.sessions.spawn(answer_with_media())

    def reject(self, leg_sid: str, sip_code: int) -> None:
        """Refuse an inbound ringing call with `sip_code`."""
        self._drop(leg_sid)
        reactor, agent = self._running()
        reactor.call(agent.reject, leg_sid, sip_code)

    def attach_leg(self, call_ref: str, leg_sid: str) -> None:
        """Bind an inbound call to its leg: allocate its media, then ring (503 when no media)."""
        if leg_sid in self._inbound_legs:
            return
        reactor, agent = self._running()
        self._inbound_legs.add(leg_sid)
        media = self.sessions.open(leg_sid)
        self.sessions.allocate(leg_sid, media, lambda allocation: reactor.call(
            agent.ring_inbound, call_ref, leg_sid, None if allocation else 503))

    # -- media on live legs --
    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Act on a connected leg's audio in the media engine."""
        return await self.sessions.command(leg_sid, command)

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Connect two legs' audio in the media engine (no re-INVITE: both terminate there)."""
        self.sessions.bridge(bridge_sid, leg_sids)

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Stop the audio between the legs; each stays up and hears nothing."""
        self.sessions.unbridge(bridge_sid, leg_sids)

    def refer(self, leg_sid: str, target: DialRequest) -> None:
        """Blind-transfer the leg's call: REFER its far end to `target` (a number goes through its trunk)."""
        reactor, agent = self._running()
        try:
            route = route_for(target, self.config)
        except NoRoute as exc:
            self._later(leg_sid, TransferUpdate("failed", reason=str(exc)))
            return
        uri = target.destination if target.destination_kind == "sip" else \
            f"sip:{route.called}@{route.host}:{route.port}"
        reactor.call(agent.refer, leg_sid, uri)

    def conference_mix(self, conference_sid: str, members: list[dict[str, Any]], record_folder: str | None) -> None:
        """Mix the members' audio in the media engine (all terminate there)."""
        self.sessions.conference_mix(conference_sid, members, record_folder)

    def conference_beep(self, conference_sid: str, kind: str) -> None:
        """A notification tone into the mix (after its last change)."""
        self.sessions.conference_beep(conference_sid, kind)

    async def conference_end(self, conference_sid: str) -> dict[str, Any] | None:
        return await self.sessions.conference_end(conference_sid)

    # -- media facts --
    def answer_sdp(self, leg_sid: str) -> str | None:
        """The SDP answer of the leg's call: the far end's 200 (outbound) or ours (inbound)."""
        media = self.sessions.get(leg_sid)
        if media is None:
            return None
        return media.local_sdp if leg_sid in self._inbound_legs else media.remote_sdp

    def remote_sdp(self, leg_sid: str) -> str | None:
        """The far end's SDP (its answer, or the offer of an inbound INVITE)."""
        media = self.sessions.get(leg_sid)
        return media.remote_sdp if media else None

    def rtp_port(self, leg_sid: str) -> int | None:
        """The local RTP port the leg's media holds."""
        return self.sessions.rtp_port(leg_sid)

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

    def _report_from_sippy(self, leg_sid: str, signal: Input | Retarget | None, *, ended: bool = False) -> None:
        """Called on the sippy thread; moves the report onto the loop (the far end's SDP travels in the
        signal: `Answered.sdp`)."""
        reactor = self._reactor
        if reactor is not None:
            reactor.deliver(self._on_report, leg_sid, signal, ended)

    def _on_report(self, leg_sid: str, signal: Input | Retarget | None, ended: bool) -> None:
        media = self.sessions.get(leg_sid)
        if isinstance(signal, Retarget):  # a re-INVITE: the audio follows; held (0.0.0.0) keeps its target
            remote = _remote(signal.sdp)
            if media is not None and remote is not None and remote.address != "0.0.0.0":
                media.remote_sdp = signal.sdp
                self.sessions.retarget(leg_sid, remote)
            return
        if isinstance(signal, Answered) and media is not None:
            media.remote_sdp = signal.sdp
            self.sessions.connect(leg_sid, media, _remote(signal.sdp))
        if ended:
            self._drop(leg_sid)
        if signal is not None:
            self._emit(leg_sid, signal)

    def _offer_from_sippy(self, dialog: InboundDialog) -> None:
        """Called on the sippy thread for a new inbound INVITE; its SDP offer crosses to the loop with it, once."""
        reactor = self._reactor
        if reactor is not None:
            reactor.deliver(self._on_inbound, dialog.call_ref, dialog.caller, dialog.called, dialog.remote_sdp)

    def _on_inbound(self, call_ref: str, caller: str, called: str, remote_sdp: str | None = None) -> None:
        reactor, agent = self._running()
        leg_sid: str | None = None
        if self._inbound is not None:
            try:
                leg_sid = self._inbound(InboundCall(call_ref=call_ref, caller=caller, called=called))
            except Draining as exc:  # the server stops: 503 with Retry-After, the caller tries another
                reactor.call(agent.ring_inbound, call_ref, None, 503, exc.retry_after)
                return
            except Exception:
                log.exception("inbound handler failed call_ref=%s", call_ref)
        if leg_sid is None:
            reactor.call(agent.ring_inbound, call_ref, None)
            return
        self.attach_leg(call_ref, leg_sid)
        media = self.sessions.get(leg_sid)
        if media is not None and remote_sdp:
            media.remote_sdp = remote_sdp

    def trunk_for(self, destination_kind: str, caller_id: str) -> str:
        """The exophone's trunk or the default for numbers; `direct` for sip: URIs (no trunk)."""
        if destination_kind == "sip":
            return "direct"
        return trunk_name(caller_id, self.config) or "direct"

    def account_sid_for(self, called: str) -> str | None:
        """The account owning an exophone (number in E.164 or SIP URI), per the config."""
        exophone = self.config.exophone(called)
        return exophone.account_sid if exophone else None


def _remote(sdp: str | None) -> RemoteMedia | None:
    """Where the far end's SDP wants our audio (None: no SDP or no usable audio in it)."""
    return remote_media(sdp) if sdp else None
