"""SipNetwork: the real SIP backend behind the Network interface (network/base.py), on the asyncio side.

Methods run on the asyncio loop and never block: they hand work to the sippy thread (reactor.py);
signals come back on the loop through the sink given to `start`.

Every leg's audio is terminated by the media engine (media/base.py `MediaEngine`): the SDP offer or
answer carries the engine's allocation, the far end's SDP is applied with `set_remote` once known, and
the allocation is released when the leg ends, whatever ended it. AMD runs in the engine on answer
when the leg asked for it; its verdicts and the engine's other notifications come back as signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from legato.domain import causes
from legato.domain.errors import Conflict, Unavailable, ValidationFailed
from legato.domain.leg import AnsweredBy
from legato.domain.machine import AmdResult, Answered, FailedToCreate, Input, MediaEvent, MediaStats
from legato.media import base as media_api
from legato.media.amd_params import AmdParams
from legato.media.base import Allocation, MediaEngine, MediaError, MediaNotification
from legato.network.base import DialRequest, InboundCall, InboundHandler, MediaCommand, SignalSink
from legato.network.sip.agent import Agent
from legato.network.sip.config import SipConfig
from legato.network.sip.dialog import InboundDialog
from legato.network.sip.reactor import Reactor
from legato.network.sip.route import NoRoute, route_for, trunk_name
from legato.network.sip.sdp import AnswerFactory, OfferFactory, g711_answer, g711_offer, remote_media

log = logging.getLogger(__name__)
MEDIA_READY_SECONDS = 5.0  # an action waits this long for the leg's media set-up to finish
_EVENTS = frozenset({media_api.DTMF_RECEIVED, media_api.PLAY_COMPLETED, media_api.RECORDING_COMPLETED,
                     media_api.GATHER_COMPLETED, media_api.DIGITS_SENT})


@dataclass(slots=True)
class LegMedia:
    """What the SIP network knows about a live leg's media."""

    amd: bool = False
    amd_params: AmdParams | None = None  # this leg's detector settings (operator's, then account's, then leg's)
    allocation: Allocation | None = None
    allocating: asyncio.Task[Allocation | None] | None = None
    setup: asyncio.Task[None] | None = None  # set_remote (+ start_amd) once the far end's SDP is known
    local_sdp: str | None = None
    remote_sdp: str | None = None
    peer: str | None = None  # the leg this one is bridged with


class SipNetwork:
    """Legs as real SIP calls through sippy. One instance per process (sippy's event loop is a singleton)."""

    name = "sip"

    def __init__(self, config: SipConfig, media: MediaEngine, *, offer: OfferFactory = g711_offer,
                 answer: AnswerFactory = g711_answer, amd_params: AmdParams | None = None) -> None:
        self.config = config
        self.media_engine = media
        self.make_offer = offer
        self.make_answer = answer
        self.amd_params = amd_params or AmdParams.tuned()
        self._signals: SignalSink | None = None
        self._inbound: InboundHandler | None = None
        self._reactor: Reactor | None = None
        self._agent: Agent | None = None
        self._media: dict[str, LegMedia] = {}
        self._inbound_legs: set[str] = set()
        self._held: set[str] = set()  # legs holding an allocation in the engine (until released)
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- life --
    async def start(self, signals: SignalSink, inbound: InboundHandler) -> None:
        """Connect the media engine, bind the SIP socket and start sippy's thread."""
        loop = asyncio.get_running_loop()
        self._signals, self._inbound = signals, inbound
        await self.media_engine.start(self._on_media)
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
        for leg_sid in list(self._media):
            self._drop(leg_sid)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._inbound_legs.clear()
        await self.media_engine.close()
        self._held.clear()

    @property
    def live_legs(self) -> int:
        """Legs this network still tracks (asyncio side)."""
        return len(self._media)

    def gate_figures(self) -> dict[str, int]:
        """Counters of INVITEs refused from unlisted sources (see gate.py); read from the sippy thread's state."""
        return self._agent.gate_figures() if self._agent is not None else {}

    @property
    def media_legs(self) -> int:
        """Legs whose media allocation is not released yet."""
        return len(self._held)

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
        media = LegMedia(amd=request.amd_enable, amd_params=self._amd_params_for(request))
        self._media[leg_sid] = media

        async def allocate_and_invite() -> Allocation | None:
            allocation = await self._allocate(leg_sid, media)
            if allocation is None:
                self._emit(leg_sid, FailedToCreate("no media for the leg (no free RTP port?)",
                                                   q850=causes.SWITCH_CONGESTION))
                return None
            if self._media.get(leg_sid) is not media or self._reactor is None or self._agent is None:
                return allocation  # hung up while we waited: _drop releases it
            media.local_sdp = self.make_offer(allocation.address, allocation.port)
            self._reactor.call(self._agent.dial, leg_sid, route, media.local_sdp)
            return allocation

        media.allocating = self._spawn(allocate_and_invite())

    async def _allocate(self, leg_sid: str, media: LegMedia) -> Allocation | None:
        try:
            allocation = await self.media_engine.allocate(leg_sid)
        except MediaError as exc:
            log.warning("media allocation failed leg_sid=%s code=%s message=%s", leg_sid, exc.code, exc.message)
            if self._media.get(leg_sid) is media:
                del self._media[leg_sid]
            return None
        self._held.add(leg_sid)
        media.allocation = allocation
        return allocation

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
        """Forget a leg and release its media (after its allocation, if still under way, finished)."""
        media = self._media.pop(leg_sid, None)
        self._inbound_legs.discard(leg_sid)
        if media is None:
            return
        if media.peer is not None:
            peer = self._media.get(media.peer)
            if peer is not None and peer.peer == leg_sid:
                peer.peer = None
        self._spawn(self._release(leg_sid, media))

    async def _release(self, leg_sid: str, media: LegMedia) -> None:
        for task in (media.allocating, media.setup):
            if task is not None and not task.done():
                with contextlib.suppress(Exception):
                    await task
        if media.allocation is None:
            return
        try:
            stats = await self.media_engine.release(leg_sid)
        except MediaError as exc:
            log.warning("media release failed leg_sid=%s code=%s", leg_sid, exc.code)
            stats = None
        finally:
            self._held.discard(leg_sid)
        if stats is not None:
            figures = stats.to_dict()
            figures.pop("ssrc", None)
            self._emit(leg_sid, MediaStats(figures))

    # -- inbound --
    def answer(self, leg_sid: str) -> None:
        """Answer an inbound ringing call: 200 OK with an SDP answer for the leg's media."""
        reactor, agent = self._running()
        media = self._media.get(leg_sid)
        if media is None:
            return

        async def answer_with_media() -> None:
            if media.allocating is not None:
                await media.allocating
            allocation = media.allocation
            if allocation is None or self._media.get(leg_sid) is not media:
                return
            media.local_sdp = self.make_answer(media.remote_sdp or "", allocation.address, allocation.port)
            reactor.call(agent.answer, leg_sid, media.local_sdp)
            await self._connect_media(leg_sid, media, media.remote_sdp)

        media.setup = self._spawn(answer_with_media())

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
        media = self._media.setdefault(leg_sid, LegMedia())

        async def allocate_and_ring() -> Allocation | None:
            allocation = await self._allocate(leg_sid, media)
            reactor.call(agent.ring_inbound, call_ref, leg_sid, None if allocation else 503)
            return allocation

        media.allocating = self._spawn(allocate_and_ring())

    # -- media on live legs --
    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Act on a connected leg's audio in the media engine."""
        media = self._media.get(leg_sid)
        if media is None or media.allocation is None:
            raise Conflict("the leg has no media", field="leg_sid")
        if media.setup is not None and not media.setup.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(media.setup), MEDIA_READY_SECONDS)
        engine, c = self.media_engine, command
        try:
            if c.kind == "play":
                return {"play_id": await engine.play(leg_sid, c.path or "", c.loop)}
            if c.kind == "say":
                return {"play_id": await engine.say(leg_sid, c.text or "", c.voice, c.rate)}
            if c.kind == "start_recording":
                result = await engine.start_recording(leg_sid, c.direction, c.folder)  # type: ignore[arg-type]
                return {"recording_id": result["recording_id"]}
            if c.kind == "stop_recording":
                result = await engine.stop_recording(leg_sid)
                return {"recording_id": result["recording_id"], "duration_ms": result["duration_ms"]}
            if c.kind == "gather":
                await engine.gather(leg_sid, c.num_digits, c.timeout, c.finish_on_key)
                return {}
            if c.kind == "send_digits":
                await engine.send_digits(leg_sid, c.digits or "")
                return {}
            simple = {"stop_play": engine.stop_play, "mute": engine.mute, "unmute": engine.unmute,
                      "hold": engine.hold, "unhold": engine.unhold}
            if c.kind in simple:
                await simple[c.kind](leg_sid)
                return {}
        except MediaError as exc:
            if exc.code == "bad_request":
                raise ValidationFailed(exc.message, field="action") from None
            if exc.code in ("conflict", "unknown_leg"):
                raise Conflict(exc.message, field="action") from None
            raise Unavailable(f"the media engine could not {c.kind}: {exc.message}", field="action") from None
        raise ValidationFailed(f"unknown media action {c.kind!r}", field="action")

    def _amd_params_for(self, request: DialRequest) -> AmdParams | None:
        """The operator's AMD settings with the account's and the leg's overrides on top (None: no overrides)."""
        overrides = request.options.get("amd_params")
        if not request.amd_enable or not overrides:
            return None
        return AmdParams.from_dict({**self.amd_params.to_dict(), **overrides})

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Connect two legs' audio in the media engine (no re-INVITE: both terminate there)."""
        if len(leg_sids) != 2:
            log.warning("media bridges join two legs bridge_sid=%s legs=%d", bridge_sid, len(leg_sids))
            return
        a, b = leg_sids
        media_a, media_b = self._media.get(a), self._media.get(b)
        if media_a is None or media_b is None:
            return
        media_a.peer, media_b.peer = b, a

        async def connect() -> None:
            for media in (media_a, media_b):
                if media.setup is not None and not media.setup.done():
                    with contextlib.suppress(Exception):
                        await media.setup
            try:
                await self.media_engine.bridge(a, b)
            except MediaError as exc:
                log.warning("media bridge failed bridge_sid=%s code=%s message=%s", bridge_sid, exc.code,
                            exc.message)

        self._spawn(connect())

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Stop the audio between the legs; each stays up and hears nothing."""
        for leg_sid in leg_sids:
            media = self._media.get(leg_sid)
            if media is None or media.peer is None:
                continue
            media.peer = None
            self._spawn(self._quietly(self.media_engine.unbridge(leg_sid)))

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
        """The local RTP port the leg's media holds."""
        media = self._media.get(leg_sid)
        return media.allocation.port if media and media.allocation else None

    # -- plumbing --
    def _running(self) -> tuple[Reactor, Agent]:
        if self._reactor is None or self._agent is None:
            raise RuntimeError("the SIP network is not started")
        return self._reactor, self._agent

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @staticmethod
    async def _quietly(work: Any) -> None:
        try:
            await work
        except MediaError as exc:
            log.debug("media command failed code=%s message=%s", exc.code, exc.message)

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
        if isinstance(signal, Answered) and media is not None:
            if media.remote_sdp:
                signal = Answered(sdp=media.remote_sdp)
            media.setup = self._spawn(self._connect_media(leg_sid, media, media.remote_sdp))
        if info.get("ended"):
            self._drop(leg_sid)
        if signal is not None:
            self._emit(leg_sid, signal)

    async def _connect_media(self, leg_sid: str, media: LegMedia, sdp: str | None) -> None:
        """Point the leg's media at the far end, then start AMD if the leg asked for it."""
        if media.allocating is not None and not media.allocating.done():
            await media.allocating
        remote = remote_media(sdp) if sdp else None
        if media.allocation is None:
            return
        try:
            if remote is None:
                log.warning("no usable audio in the far end's SDP leg_sid=%s", leg_sid)
            else:
                await self.media_engine.set_remote(leg_sid, remote.address, remote.port, remote.payload_type,
                                                   remote.telephone_event_pt)
            if media.amd:
                await self.media_engine.start_amd(leg_sid, media.amd_params or self.amd_params)
        except MediaError as exc:
            log.warning("media set-up failed leg_sid=%s code=%s message=%s", leg_sid, exc.code, exc.message)
            if media.amd:  # no audio analysis possible: the verdict the detector gives when undecided
                self._emit(leg_sid, AmdResult(self.amd_params.undecided))

    def _on_media(self, note: MediaNotification) -> None:
        """A media engine notification (on the loop): AMD verdicts and action results become signals."""
        leg_sid = note.leg_id
        if note.name == media_api.AMD_RESULT:
            data = note.data
            try:
                verdict = AnsweredBy(data["answered_by"])
            except (KeyError, ValueError):
                log.warning("bad AMD verdict leg_sid=%s data=%r", leg_sid, data)
                return
            self._emit(leg_sid, AmdResult(verdict, decision_ms=_int(data.get("decision_ms")),
                                          initial_silence_ms=_int(data.get("initial_silence_ms")),
                                          greeting_ms=_int(data.get("greeting_ms")), words=_int(data.get("words")),
                                          confidence=_confidence(data.get("confidence"))))
        elif note.name == media_api.RECORDING_COMPLETED:
            data = dict(note.data)
            path = str(data.pop("path", ""))
            data["file"] = path.rsplit("/", 1)[-1]
            self._emit(leg_sid, MediaEvent(note.name, data))
        elif note.name in _EVENTS:
            self._emit(leg_sid, MediaEvent(note.name, dict(note.data)))

    def _offer_from_sippy(self, dialog: InboundDialog) -> None:
        """Called on the sippy thread for a new inbound INVITE."""
        reactor = self._reactor
        if reactor is not None:
            reactor.deliver(self._on_inbound, dialog.call_ref, dialog.caller, dialog.called, dialog.remote_sdp)

    def _on_inbound(self, call_ref: str, caller: str, called: str, remote_sdp: str | None = None) -> None:
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
        media = self._media.get(leg_sid)
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


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _confidence(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and 0 <= value <= 1 else None

