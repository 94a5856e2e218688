"""The backend-neutral leg media session: every network's legs terminate their audio in a MediaEngine.

`MediaSessions` allocates a leg's RTP endpoint, points it at the far end (and starts AMD), runs the
media actions, connects bridged legs, releases the allocation whatever ended the leg, and turns the
engine's notifications into signals. It is driven on the asyncio loop and knows nothing of SIP: a
network says when a leg starts, where the far end's audio is (`RemoteMedia`) and when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from legato.domain.errors import Conflict, Unavailable, ValidationFailed
from legato.domain.leg import AnsweredBy
from legato.domain.machine import AmdResult, Input, MediaEvent, MediaStats
from legato.media import base as media_api
from legato.media.amd_params import AmdParams
from legato.media.base import Allocation, MediaEngine, MediaError, MediaNotification, RemoteMedia
from legato.network.base import DialRequest, MediaCommand

log = logging.getLogger(__name__)
MEDIA_READY_SECONDS = 5.0  # an action waits this long for the leg's media set-up to finish
_EVENTS = frozenset({media_api.DTMF_RECEIVED, media_api.PLAY_COMPLETED, media_api.RECORDING_COMPLETED,
                     media_api.GATHER_COMPLETED, media_api.DIGITS_SENT, media_api.STREAM_STARTED,
                     media_api.STREAM_STOPPED, media_api.TRANSCRIPTION_COMPLETED})

Emit = Callable[[str, Input], None]


@dataclass(slots=True)
class LegMedia:
    """What a network knows about a live leg's media."""

    amd: bool = False
    amd_params: AmdParams | None = None  # this leg's detector settings (operator's, then account's, then leg's)
    allocation: Allocation | None = None
    allocating: asyncio.Task[Allocation | None] | None = None
    setup: asyncio.Task[None] | None = None  # set_remote (+ start_amd) once the far end is known
    local_sdp: str | None = None
    remote_sdp: str | None = None
    peer: str | None = None  # the leg this one is bridged with


class MediaSessions:
    """The media of every live leg of one network, in one MediaEngine."""

    def __init__(self, engine: MediaEngine, emit: Emit, amd_params: AmdParams | None = None) -> None:
        self.engine = engine
        self.emit = emit
        self.amd_params = amd_params or AmdParams.tuned()
        self.legs: dict[str, LegMedia] = {}
        self.held: set[str] = set()  # legs holding an allocation in the engine (until released)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._mixes: dict[str, asyncio.Task[Any]] = {}  # per conference: its latest change to the mix

    async def start(self) -> None:
        await self.engine.start(self.on_notification)

    async def stop(self) -> None:
        """Release every leg, wait for the work under way, disconnect the engine."""
        for leg_sid in list(self.legs):
            self.drop(leg_sid)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.engine.close()
        self.held.clear()

    # -- a leg's life --
    def open(self, leg_sid: str, request: DialRequest | None = None) -> LegMedia:
        """Track a leg (an outbound one's AMD settings from its request); idempotent."""
        media = self.legs.get(leg_sid)
        if media is None:
            media = self.legs[leg_sid] = LegMedia()
            if request is not None:
                media.amd, media.amd_params = request.amd_enable, self._amd_params_for(request)
        return media

    def get(self, leg_sid: str) -> LegMedia | None:
        return self.legs.get(leg_sid)

    def allocate(self, leg_sid: str, media: LegMedia,
                 then: Callable[[Allocation | None], Any] | None = None) -> asyncio.Task[Allocation | None]:
        """Allocate the leg's endpoint in the background; `then(allocation)` runs after (None: failed)."""
        async def run() -> Allocation | None:
            allocation = await self._allocate(leg_sid, media)
            if then is not None:
                result = then(allocation)
                if asyncio.iscoroutine(result):
                    await result
            return allocation

        media.allocating = task = self.spawn(run())
        task.add_done_callback(lambda _: _forget_task(media, "allocating", task))
        return task

    async def _allocate(self, leg_sid: str, media: LegMedia) -> Allocation | None:
        try:
            allocation = await self.engine.allocate(leg_sid)
        except MediaError as exc:
            log.warning("media allocation failed leg_sid=%s code=%s message=%s", leg_sid, exc.code, exc.message)
            if self.legs.get(leg_sid) is media:
                del self.legs[leg_sid]
            return None
        self.held.add(leg_sid)
        media.allocation = allocation
        return allocation

    def is_current(self, leg_sid: str, media: LegMedia) -> bool:
        """False once the leg was dropped (or replaced) while work for it was under way."""
        return self.legs.get(leg_sid) is media

    def connect(self, leg_sid: str, media: LegMedia, remote: RemoteMedia | None) -> asyncio.Task[None]:
        """Point the leg's media at the far end, then start AMD if the leg asked for it (in the background)."""
        media.setup = task = self.spawn(self.connect_now(leg_sid, media, remote))
        task.add_done_callback(lambda _: _forget_task(media, "setup", task))
        return task

    async def connect_now(self, leg_sid: str, media: LegMedia, remote: RemoteMedia | None) -> None:
        if media.allocating is not None and not media.allocating.done():
            await media.allocating
        if media.allocation is None:
            return
        try:
            if remote is None:
                log.warning("no usable audio in the far end's media description leg_sid=%s", leg_sid)
            else:
                await self.engine.set_remote(leg_sid, remote.address, remote.port, remote.payload_type,
                                             remote.telephone_event_pt)
            if media.amd:
                await self.engine.start_amd(leg_sid, media.amd_params or self.amd_params)
        except MediaError as exc:
            log.warning("media set-up failed leg_sid=%s code=%s message=%s", leg_sid, exc.code, exc.message)
            if media.amd:  # no audio analysis possible: the verdict the detector gives when undecided
                self.emit(leg_sid, AmdResult(self.amd_params.undecided))

    def retarget(self, leg_sid: str, remote: RemoteMedia) -> None:
        """Point a connected leg's audio at a new far-end address or codec (a re-INVITE), nothing else."""
        async def set_remote() -> None:
            try:
                await self.engine.set_remote(leg_sid, remote.address, remote.port, remote.payload_type,
                                             remote.telephone_event_pt)
            except MediaError as exc:
                log.warning("media re-target failed leg_sid=%s code=%s message=%s", leg_sid, exc.code, exc.message)

        if leg_sid in self.legs:
            self.spawn(set_remote())

    def drop(self, leg_sid: str) -> None:
        """Forget a leg and release its media (after its allocation, if still under way, finished)."""
        media = self.legs.pop(leg_sid, None)
        if media is None:
            return
        if media.peer is not None:
            peer = self.legs.get(media.peer)
            if peer is not None and peer.peer == leg_sid:
                peer.peer = None
        self.spawn(self._release(leg_sid, media))

    async def _release(self, leg_sid: str, media: LegMedia) -> None:
        for task in (media.allocating, media.setup):
            if task is not None and not task.done():
                with contextlib.suppress(Exception):
                    await task
        if media.allocation is None:
            return
        try:
            stats = await self.engine.release(leg_sid)
        except MediaError as exc:
            log.warning("media release failed leg_sid=%s code=%s", leg_sid, exc.code)
            stats = None
        finally:
            self.held.discard(leg_sid)
        if stats is not None:
            figures = stats.to_dict()
            figures.pop("ssrc", None)
            self.emit(leg_sid, MediaStats(figures))

    # -- actions --
    async def command(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Act on a connected leg's audio in the media engine."""
        media = self.legs.get(leg_sid)
        if media is None or media.allocation is None:
            raise Conflict("the leg has no media", field="leg_sid")
        if media.setup is not None and not media.setup.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(media.setup), MEDIA_READY_SECONDS)
        try:
            return await command.run(self.engine, leg_sid)
        except MediaError as exc:
            if exc.code == "bad_request":
                raise ValidationFailed(exc.message, field="action") from None
            if exc.code in ("conflict", "unknown_leg"):
                raise Conflict(exc.message, field="action") from None
            raise Unavailable(f"the media engine could not {command.kind}: {exc.message}", field="action") from None

    def _amd_params_for(self, request: DialRequest) -> AmdParams | None:
        """The operator's AMD settings with the account's and the leg's overrides on top (None: no overrides)."""
        overrides = request.options.get("amd_params")
        if not request.amd_enable or not overrides:
            return None
        return AmdParams.from_dict({**self.amd_params.to_dict(), **overrides})

    def bridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Connect two legs' audio in the media engine."""
        if len(leg_sids) != 2:
            log.warning("media bridges join two legs bridge_sid=%s legs=%d", bridge_sid, len(leg_sids))
            return
        a, b = leg_sids
        media_a, media_b = self.legs.get(a), self.legs.get(b)
        if media_a is None or media_b is None:
            return
        media_a.peer, media_b.peer = b, a

        async def connect() -> None:
            for media in (media_a, media_b):
                if media.setup is not None and not media.setup.done():
                    with contextlib.suppress(Exception):
                        await media.setup
            try:
                await self.engine.bridge(a, b)
            except MediaError as exc:
                log.warning("media bridge failed bridge_sid=%s code=%s message=%s", bridge_sid, exc.code,
                            exc.message)

        self.spawn(connect())

    def unbridge(self, bridge_sid: str, leg_sids: list[str]) -> None:
        """Stop the audio between the legs; each stays up and hears nothing."""
        for leg_sid in leg_sids:
            media = self.legs.get(leg_sid)
            if media is None or media.peer is None:
                continue
            media.peer = None
            self.spawn(self._quietly(self.engine.unbridge(leg_sid)))

    def conference_mix(self, conference_sid: str, members: list[dict[str, Any]], record_folder: str | None) -> None:
        """Mix the members' audio in the media engine (once each leg's media is set up)."""
        wire = [{"leg_id": m["leg_sid"], "role": m["role"], "muted": m["muted"], "hold": m["hold"],
                 "coach_of": m["coach_leg_sid"]} for m in members if m["leg_sid"] in self.legs]
        setups = [media.setup for m in wire if (media := self.legs[m["leg_id"]]).setup is not None]
        previous = self._mixes.get(conference_sid)

        async def apply() -> None:  # in order, after the conference's previous change
            if previous is not None:
                await asyncio.wait([previous])
            for setup in setups:
                if not setup.done():
                    with contextlib.suppress(Exception):
                        await setup
            await self.engine.conference_set(conference_sid, wire, record_folder)

        self._mixes[conference_sid] = self.spawn(self._quietly(apply()))

    def conference_beep(self, conference_sid: str, kind: str) -> None:
        """Play a tone into the mix, after the conference's last change reached the engine."""
        previous = self._mixes.get(conference_sid)

        async def apply() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await self.engine.conference_beep(conference_sid, kind)

        self._mixes[conference_sid] = self.spawn(self._quietly(apply()))

    async def conference_end(self, conference_sid: str) -> dict[str, Any] | None:
        """Stop the mix (after its last change reached the engine); the recording it wrote, if any."""
        previous = self._mixes.pop(conference_sid, None)
        if previous is not None:
            await asyncio.wait([previous])
        try:
            result = await self.engine.conference_end(conference_sid)
            return result if "file" in result else None
        except MediaError as exc:
            log.warning("conference end failed conference_sid=%s code=%s", conference_sid, exc.code)
            return None

    def rtp_port(self, leg_sid: str) -> int | None:
        """The local RTP port the leg's media holds."""
        media = self.legs.get(leg_sid)
        return media.allocation.port if media and media.allocation else None

    # -- plumbing --
    def spawn(self, work: Any) -> asyncio.Task[Any]:
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

    def on_notification(self, note: MediaNotification) -> None:
        """A media engine notification (on the loop): AMD verdicts and action results become signals."""
        leg_sid = note.leg_id
        if note.name == media_api.AMD_RESULT:
            data = note.data
            try:
                verdict = AnsweredBy(data["answered_by"])
            except (KeyError, ValueError):
                log.warning("bad AMD verdict leg_sid=%s data=%r", leg_sid, data)
                return
            self.emit(leg_sid, AmdResult(verdict, decision_ms=_int(data.get("decision_ms")),
                                         initial_silence_ms=_int(data.get("initial_silence_ms")),
                                         greeting_ms=_int(data.get("greeting_ms")), words=_int(data.get("words")),
                                         confidence=_confidence(data.get("confidence")),
                                         reason=data.get("reason") if isinstance(data.get("reason"), str) else None))
        elif note.name in (media_api.RECORDING_COMPLETED, media_api.TRANSCRIPTION_COMPLETED):
            data = dict(note.data)
            path = str(data.pop("path", ""))
            data["file"] = path.rsplit("/", 1)[-1]
            self.emit(leg_sid, MediaEvent(note.name, data))
        elif note.name in _EVENTS:
            self.emit(leg_sid, MediaEvent(note.name, dict(note.data)))


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _confidence(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and 0 <= value <= 1 else None


def _forget_task(media: LegMedia, name: str, task: asyncio.Task[Any]) -> None:
    """A finished allocation or setup is not kept for the leg's whole life (its result is in `media`)."""
    if getattr(media, name) is task:
        setattr(media, name, None)
