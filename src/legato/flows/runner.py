"""One running call flow: fetch a document, run its verbs in order on the leg, follow where they lead.

A `Flow` drives its leg only through the use-cases the API uses (`LegService.act_with_result`, bridges);
it learns what happened from the leg's own events (`inbox`, fed by its `Host`: flows/host.py `FlowHost`).
A document that cannot be fetched or run is reported as a `flow_error` leg action event, then
`flow_fallback_url` runs (once), else the call ends. A document that runs out of verbs ends the call, as Twilio's do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from pydantic import ValidationError

from legato.app.legs import LegAction
from legato.domain import machine as m
from legato.domain.account import Account
from legato.domain.errors import LegatoError
from legato.domain.events import LegEvent
from legato.domain.leg import Leg, LegState
from legato.flows.params import call_params
from legato.flows.twiml import FlowError, Verb, parse

if TYPE_CHECKING:
    from legato.app.bridges import BridgeService
    from legato.app.conferences import ConferenceService
    from legato.app.legs import LegService
    from legato.domain.clock import Clock
    from legato.engine.switchboard import Switchboard
    from legato.flows.callbacks import StatusCallbacks
    from legato.flows.conference_starts import ConferenceStarts
    from legato.flows.fetch import Fetcher

log = logging.getLogger(__name__)
MAX_DOCUMENTS = 1000  # documents one call may fetch (a loop of redirects ends there)
# verbs that run on a ringing inbound call without answering it: the refusals, and a <Pause> before any other
# verb, which delays the pick-up as on Twilio
UNANSWERED = frozenset({"Reject", "Hangup", "Pause"})


class LegGone(Exception):
    """The leg ended while the flow waited on it."""

    def __init__(self, event: LegEvent) -> None:
        super().__init__(event.event_name)
        self.event = event


@dataclass(frozen=True, slots=True)
class Next:
    """Fetch this document next (it replaces the running one)."""

    url: str
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)


class End:
    """The flow is over (the verb ended the call)."""


VerbRunner = Callable[["Flow", Verb], Awaitable["Next | End | None"]]


class Host(Protocol):
    """What a flow and its verbs use of the process's flows (flows/host.py `FlowHost` is the one)."""

    legs: LegService
    bridges: BridgeService
    conferences: ConferenceService | None
    switchboard: Switchboard
    clock: Clock
    fetcher: Fetcher
    callbacks: StatusCallbacks
    starts: ConferenceStarts
    verbs: dict[str, VerbRunner]

    def finished(self, flow: Flow) -> None:
        """The flow is over: forget it."""

    def tell(self, leg_sid: str, name: str, data: dict[str, object]) -> None:
        """Give the leg's flow an event of its own (a conference it waits in started)."""

    def watch(self, leg_sid: str, queue: asyncio.Queue[tuple[Leg, LegEvent]]) -> None:
        """Put the events of a leg the flow placed (<Dial>) on `queue`."""

    def unwatch(self, leg_sid: str) -> None:
        """Stop `watch`."""


class Flow:
    """The flow of one leg (one at a time: a redirect replaces it)."""

    def __init__(self, host: Host, leg: Leg) -> None:
        self.host = host
        self.account: Account = None  # type: ignore[assignment]  # set by the host before `run`
        self.leg_sid = leg.leg_sid
        self.last = leg
        self.inbox: asyncio.Queue[LegEvent] = asyncio.Queue()
        self.url = ""
        self.method = "POST"
        self.fallback_used = False
        self.recording = False  # a recording this flow started is running (Record, Dial record)
        self.recordings: dict[str, LegEvent] = {}  # recording_completed events seen, by recording_id
        self.streams: dict[str, str] = {}  # stream_sid -> the name of each stream <Start> started ('' unnamed)

    @property
    def leg(self) -> Leg:
        """The leg now (the switchboard's live copy, else the last one seen)."""
        live = self.host.switchboard.get(self.leg_sid)
        if live is not None:
            self.last = live
        return self.last

    def params(self, **extra: str) -> dict[str, str]:
        return {**call_params(self.leg), **extra}

    def resolve(self, url: str | None, attribute: str) -> str:
        """An action URL, relative ones against the current document's (as Twilio resolves them)."""
        target = urljoin(self.url, url) if url else self.url.split("#", 1)[0]
        if urlsplit(target).scheme not in ("http", "https"):
            raise FlowError("attribute", attribute, f"{attribute}={url!r} is not an http(s) URL")
        return target

    # -- acting on the leg through the API's use-cases --
    async def act(self, action: str, **fields: Any) -> dict[str, Any]:
        """Carry out a leg action; a field this server does not know is a FlowError (unsupported)."""
        try:
            request = LegAction.model_validate({"action": action, **{k: v for k, v in fields.items() if v is not None}})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            unknown = first["type"] == "extra_forbidden" or where == "action"  # a field or action not built here
            raise FlowError(
                "unsupported" if unknown else "attribute",
                f"{action}.{where}",
                f"this server cannot {action} with {where}" if unknown else f"{action} {where}: {first['msg']}",
            ) from None
        if self.leg.is_terminal:
            raise LegGone(self._terminal_event())
        _, result = await self.host.legs.act_with_result(self.account, self.leg_sid, request)
        return result

    def _terminal_event(self) -> LegEvent:
        return LegEvent("", self.leg_sid, self.leg.account_sid, 0, "leg_terminated", "", self.leg.date_created, {})

    async def wait(self, match: Callable[[LegEvent], bool], within: float | None = None, *,
                   through_end: bool = False) -> LegEvent | None:
        """The next event of the leg that `match`es (None after `within` clock seconds); LegGone when the
        leg ends first, unless `through_end` (an event that comes after the end). Events that do not match
        are passed over."""

        async def until() -> LegEvent:
            while True:
                event = await self.inbox.get()
                if event.event_name == "recording_completed":  # kept: a wait for something else may pass it
                    self.recordings[str(event.data.get("recording_id"))] = event
                if match(event):
                    return event
                if event.event_name == "leg_terminated" and not through_end:
                    raise LegGone(event)

        if within is None:
            return await until()
        waiting, sleeping = asyncio.ensure_future(until()), asyncio.ensure_future(self.sleep(within))
        try:
            await asyncio.wait((waiting, sleeping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeping.cancel()
            if not waiting.done():
                waiting.cancel()
        return waiting.result() if waiting.done() and not waiting.cancelled() else None

    async def recording_completed(self, recording_id: object, within: float) -> LegEvent | None:
        """The `recording_completed` of a recording this flow started: also when an earlier wait passed it
        over, and when the call ended first (its `leg_terminated` may still be queued before it, or have
        been read); None after `within` clock seconds."""
        key = str(recording_id)
        if key in self.recordings:
            return self.recordings.pop(key)
        done = await self.wait(lambda e: e.event_name == "recording_completed" and
                               str(e.data.get("recording_id")) == key, within=within, through_end=True)
        self.recordings.pop(key, None)
        return done

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of clock time (on the injected clock: the sandbox's time scale applies)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.host.clock.call_later(seconds, lambda: done.done() or done.set_result(None))
        try:
            await done
        finally:
            timer.cancel()

    def report(self, error: FlowError) -> None:
        """The `flow_error` leg action event, naming the verb or attribute and the document's URL."""
        data = {"kind": error.kind, "name": error.name, "message": error.message, "url": self.url.split("#")[0]}
        log.warning(
            "flow error leg_sid=%s account_sid=%s kind=%s name=%s",
            self.leg_sid,
            self.account.account_sid,
            error.kind,
            error.name,
        )
        self.host.switchboard.signal(self.leg_sid, m.MediaEvent("flow_error", data))

    # -- the loop --
    async def run(self, start: Next) -> None:
        """Run documents from `start` until the call ends or a document runs out of verbs."""
        step: Next | End | None = start
        try:
            for _ in range(MAX_DOCUMENTS):
                if not isinstance(step, Next) or self.leg.is_terminal:
                    break
                step = await self._document(step)
            else:
                if isinstance(step, Next) and not self.leg.is_terminal:  # a redirect loop: say so, no fallback
                    self.report(FlowError("document", "Response", f"more than {MAX_DOCUMENTS} documents in one call"))
            if not self.leg.is_terminal and self.leg.state is not LegState.CREATED:
                await self.act("hangup")
        except LegGone:
            pass
        except asyncio.CancelledError:  # replaced by a redirect: what this flow started on the audio stops
            await self._quiet()
            raise
        except LegatoError as exc:  # the leg ended or refused between our look and our action
            log.info("flow stopped leg_sid=%s reason=%s", self.leg_sid, exc.message)
        except Exception:
            log.exception("flow failed leg_sid=%s account_sid=%s", self.leg_sid, self.last.account_sid)
        finally:
            self.host.finished(self)

    async def _document(self, step: Next) -> Next | End | None:
        self.url, self.method = step.url, step.method
        try:
            body = await self.host.fetcher.fetch(
                self.account.account_sid, step.url, step.method, {**self.params(), **step.params}
            )
            verbs = parse(body)
        except FlowError as error:
            return await self._failed(error, step)
        for verb in verbs:
            try:
                if verb.name not in UNANSWERED:
                    await self.answer()  # an inbound call is answered by its first verb that is not in UNANSWERED
                outcome = await self.host.verbs[verb.name](self, verb)
            except FlowError as error:
                return await self._failed(error, step)
            except LegatoError as exc:  # the use-case refused the verb (a play URL not allowed, a 409...)
                if self.leg.is_terminal:
                    return End()
                kind, name = ("attribute", f"{verb.name}.{exc.field}") if exc.field else ("verb", verb.name)
                return await self._failed(FlowError(kind, name, f"<{verb.name}>: {exc.message}"), step)
            if outcome is not None:
                return outcome
        return None

    async def _failed(self, error: FlowError, step: Next) -> Next | None:
        """Report the error; the fallback URL runs next (once per flow), else the flow ends."""
        if self.leg.state is LegState.RINGING:  # an inbound call: answer so the error is heard and recorded
            await self.answer()
        self.report(error)
        fallback = self.leg.extra.get("flow", {}).get("fallback_url")
        if fallback and not self.fallback_used and not self.leg.is_terminal:
            self.fallback_used = True
            return Next(
                fallback,
                "POST",
                {"ErrorCode": "11200" if error.kind == "fetch" else "12100", "ErrorUrl": step.url.split("#")[0]},
            )
        return None

    async def _quiet(self) -> None:
        """Stop this flow's prompts and recording (best effort: there may be none)."""
        for action in ("stop_play", "stop_recording") if self.recording else ("stop_play",):
            try:
                await self.act(action)
            except (LegatoError, LegGone, FlowError):
                pass

    async def answer(self) -> None:
        """Answer a ringing inbound leg and wait until it is connected."""
        if self.leg.state is LegState.RINGING:
            await self.act("answer")
            await self.wait(lambda e: e.event_name == "leg_answered")
