"""The switchboard: one LegController per live leg, fed by network signals, timers and commands.

It is the only place that runs the domain state machine. Each input yields effects; the
switchboard records the events together with the new leg snapshot through the group-commit
writer (one transaction), then starts/cancels timers and gives the network its commands.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from legato.dialects.exotel import event_data
from legato.dialects.formats import render_event
from legato.domain import machine as m
from legato.domain.clock import Clock, TimerHandle
from legato.domain.errors import Conflict, Unavailable
from legato.domain.events import LegEvent
from legato.domain.ids import new_event_sid
from legato.domain.leg import Leg, LegState
from legato.domain.prices import RateTable, record_price
from legato.domain.transfer import TRANSFER_KEY
from legato.engine.holds import Holds
from legato.network.base import DialRequest, InboundCall, MediaCommand, Network, Transferring
from legato.store.database import RETRY_AFTER
from legato.store.writer import Writer

log = logging.getLogger(__name__)

InboundRouter = Callable[[InboundCall], "Leg | None"]
"""Builds the inbound leg for a call to an exophone, or None when no account owns the number."""

LegHook = Callable[[Leg], None]
"""Told of a leg going live (`on_launch`) or ending (`on_end`), on the loop thread, synchronously."""

EventHook = Callable[[Leg, list[LegEvent]], None]
"""Told of a leg's new events as they are queued for writing (in order), on the loop thread, synchronously."""

RecordingUrl = Callable[[Leg, str], str]
"""`recording_url(leg, file_name)`: where the application fetches a recording of the leg."""

ENDED_KEPT = 1000  # ended legs kept for media reports that follow the end (recording, RTCP figures)


class LegController:
    """A live leg: its state machine and its running timers."""

    __slots__ = ("machine", "timers")

    def __init__(self, leg: Leg, amd_cap: float = m.AMD_CAP_SECONDS, *, confirm_hangup: bool = False) -> None:
        self.machine = m.LegMachine(leg, amd_cap, confirm_hangup=confirm_hangup)
        self.timers: dict[str, TimerHandle] = {}

    @property
    def leg(self) -> Leg:
        return self.machine.leg


class Switchboard:
    """Owns every live leg of this process."""

    def __init__(self, clock: Clock, network: Network, writer: Writer, *,
                 amd_cap: float = m.AMD_CAP_SECONDS, write_wait: float = 5.0) -> None:
        self.clock = clock
        self.network = network
        self.writer = writer
        self.amd_cap = amd_cap
        self.write_wait = write_wait  # how long a request waits for a database that does not take writes
        self.controllers: dict[str, LegController] = {}
        self.route_inbound: InboundRouter = lambda call: None
        self.on_launch: list[LegHook] = []
        self.on_end: list[LegHook] = []
        self.on_events: list[EventHook] = []  # call flows follow their legs through this
        self.on_connect: list[LegHook] = []  # told once a leg is connected (answered), after its network command
        self.recording_url: RecordingUrl = lambda leg, name: name
        self._finished: OrderedDict[str, LegController] = OrderedDict()
        self.rates: RateTable | None = None  # the operator's rate table; legs are priced when they end
        self.holds = Holds()  # what holds each leg (bridges, conferences register)

    async def start(self) -> None:
        await self.network.start(self.signal, self._on_inbound)

    async def stop(self) -> None:
        for controller in self.controllers.values():
            for timer in controller.timers.values():
                timer.cancel()
        await self.network.stop()

    # ---- entry points ------------------------------------------------------------------
    async def launch(self, leg: Leg, first: m.Input, at: datetime | None = None) -> Leg:
        """Take a new leg live: record it with the events of `first` (Start, Enqueue, Incoming) durably,
        stamped `at` (default now).

        Returns the leg as accepted (a snapshot: an enqueued leg may start while the write commits).
        Unavailable (503) when the database does not take writes: the leg is then not dialled, and if it
        was already queued for writing it is recorded ended (failed, database_unavailable) once the
        database is back."""
        self.require_store()
        controller = self._controller(leg)
        self.controllers[leg.leg_sid] = controller
        now = at or self.clock.now()
        effects = controller.machine.handle(first, now)
        self._launched(leg)  # before the snapshot: hooks stamp the leg (its owner node)
        accepted = dataclasses.replace(leg, extra=dict(leg.extra))
        try:
            durable = await self._durable(self._apply(controller, effects, new=True, act=False, at=now))
        except BaseException:
            if self.controllers.pop(leg.leg_sid, None) is not None:
                self._ended(leg)
            raise
        if not durable:
            self._watch(self._apply(controller, controller.machine.handle(m.Reconcile("database_unavailable"),
                                                                          self.clock.now()), act=False))
            raise self._unavailable()
        self._act(controller, effects)
        return accepted

    def _controller(self, leg: Leg) -> LegController:
        return LegController(leg, self.amd_cap, confirm_hangup=self.network.confirms_hangup)

    def require_store(self) -> None:
        """Unavailable (503) while the database does not take writes: take no new work then."""
        if not self.writer.available:
            raise self._unavailable()

    @staticmethod
    def _unavailable() -> Unavailable:
        return Unavailable("the database is unavailable; try again shortly", retry_after=RETRY_AFTER)

    async def _durable(self, future: asyncio.Future[None]) -> bool:
        """Wait until the write is durable; False once the database has not taken writes for `write_wait` s
        (the write stays queued and is made when the database is back)."""
        while True:
            try:
                await asyncio.wait_for(asyncio.shield(future), self.write_wait)
                return True
            except TimeoutError:
                if not self.writer.available:
                    return False

    @staticmethod
    def _watch(future: asyncio.Future[None]) -> None:
        """A write nobody awaits: its failure (the writer logged it) must not go unretrieved."""
        future.add_done_callback(lambda done: done.cancelled() or done.exception())

    def signal(self, leg_sid: str, event: m.Input, at: datetime | None = None) -> None:
        """A network signal (or an engine decision, at clock time `at`) for a leg, on the loop thread."""
        controller = self.controllers.get(leg_sid)
        if controller is None and isinstance(event, m.AFTER_END):
            controller = self._finished.get(leg_sid)
        if controller is None:
            if isinstance(event, m.Answered):  # answered after we gave up: tear it down
                self._safely(self.network.bye, leg_sid)
            return
        if isinstance(event, m.MediaEvent) and event.name in ("recording_completed", "transcription_completed"):
            event = self._with_recording_url(controller.leg, event)
        now = at or self.clock.now()
        before = _fingerprint(controller.leg)
        effects = controller.machine.handle(event, now)
        if not any(isinstance(e, m.Emit) for e in effects) and _fingerprint(controller.leg) == before:
            self._act(controller, effects)  # a repeated or late signal that changed nothing: nothing to write
            return
        self._watch(self._apply(controller, effects, at=now))

    def feed(self, leg_sid: str, event: m.Input) -> asyncio.Future[None]:
        """Feed an input to a live leg now; Conflict when the leg is not live or refuses it.
        The future resolves once the change is durable; Unavailable while the database takes no writes."""
        controller = self.controllers.get(leg_sid)
        if controller is None:
            raise Conflict("leg is not live", field="leg_sid")
        self.require_store()
        return self._apply(controller, controller.machine.handle(event, self.clock.now()))

    def _with_recording_url(self, leg: Leg, event: m.MediaEvent) -> m.MediaEvent:
        name = event.data.get("file")
        if not isinstance(name, str):
            return event
        return dataclasses.replace(event, data={**event.data, m.RECORDING_URL_KEY: self.recording_url(leg, name)})

    async def media(self, leg_sid: str, command: MediaCommand) -> dict[str, Any]:
        """Act on a connected leg's audio through the network; Conflict when the leg cannot take it."""
        controller = self.controllers.get(leg_sid)
        if controller is None:
            raise Conflict("leg is not live", field="leg_sid")
        leg = controller.leg
        if leg.state is not LegState.CONNECTED:
            raise Conflict(f"{command.kind} needs a connected leg (this one is {leg.state})", field="action")
        self.require_store()
        return await self.network.media(leg_sid, command)

    async def command(self, leg_sid: str, event: m.Input) -> Leg:
        """An application command (hangup, answer...); returns the leg once the change is durable.
        Unavailable when the database did not take it within `write_wait` s (it is written once it is back)."""
        controller = self.controllers.get(leg_sid)
        if not await self._durable(self.feed(leg_sid, event)):
            raise self._unavailable()
        assert controller is not None
        return controller.leg

    def get(self, leg_sid: str) -> Leg | None:
        """The live leg, if this process holds it."""
        controller = self.controllers.get(leg_sid)
        return controller.leg if controller else None

    async def reconcile(self, stale: list[Leg], cause: str = "platform_restart") -> int:
        """End legs left live by a process that is gone: failed with `cause`, one leg_terminated each."""
        futures = []
        for leg in stale:
            controller = self._controller(leg)
            futures.append(self._apply(controller, controller.machine.handle(m.Reconcile(cause), self.clock.now()),
                                       act=False))
        if futures:
            await asyncio.gather(*futures)
        return len(futures)

    # ---- effects ---------------------------------------------------------------------
    def _apply(self, controller: LegController, effects: list[m.Effect], *, new: bool = False,
               act: bool = True, at: datetime | None = None) -> asyncio.Future[None]:
        leg = controller.leg
        now = at or self.clock.now()
        if leg.is_terminal and self.rates is not None and "price" not in leg.extra:
            record_price(leg, self.rates.price_leg(leg))
        events: list[LegEvent] = []
        for effect in effects:
            if isinstance(effect, m.Emit):
                leg.event_sequence += 1
                data = event_data(leg)
                if effect.data:
                    data.update(effect.data)
                event = LegEvent(new_event_sid(), leg.leg_sid, leg.account_sid, leg.event_sequence,
                                 effect.name, effect.type, now, data, effect.error, endpoint=effect.endpoint)
                dialect = leg.extra.get("event_format")
                if dialect:
                    body = render_event(dialect, event, leg)
                    event = dataclasses.replace(event, body=body, deliver=body is not None)
                events.append(event)
        future = self.writer.submit(leg, events, new=new, endpoint=leg.leg_event_endpoint)
        ended = leg.is_terminal and self.controllers.pop(leg.leg_sid, None) is not None
        if ended:
            self._finished[leg.leg_sid] = controller
            while len(self._finished) > ENDED_KEPT:
                self._finished.popitem(last=False)
        if events:  # before acting: what the network reports while acting comes after these, as its sequence
            self._told(leg, events)
        if act:
            self._act(controller, effects)
        if ended:
            self._ended(leg)
        return future

    def _told(self, leg: Leg, events: list[LegEvent]) -> None:
        for hook in self.on_events:
            try:
                hook(leg, events)
            except Exception:
                log.exception("event hook failed leg_sid=%s account_sid=%s", leg.leg_sid, leg.account_sid)

    def _launched(self, leg: Leg) -> None:
        for hook in self.on_launch:
            hook(leg)

    def _ended(self, leg: Leg) -> None:
        for hook in self.on_end:
            try:
                hook(leg)
            except Exception:
                log.exception("end hook failed leg_sid=%s account_sid=%s", leg.leg_sid, leg.account_sid)

    def _act(self, controller: LegController, effects: list[m.Effect]) -> None:
        for effect in effects:
            if isinstance(effect, m.StartTimer):
                self._start_timer(controller, effect)
            elif isinstance(effect, m.CancelTimer):
                timer = controller.timers.pop(effect.name, None)
                if timer is not None:
                    timer.cancel()
            elif isinstance(effect, m.NetworkCommand):
                self._network(controller.leg, effect)
        if any(isinstance(e, m.StartTimer) and e.name == m.TIME_LIMIT for e in effects):  # the leg just connected
            for hook in self.on_connect:
                hook(controller.leg)

    def _start_timer(self, controller: LegController, effect: m.StartTimer) -> None:
        old = controller.timers.pop(effect.name, None)
        if old is not None:
            old.cancel()
        leg_sid = controller.leg.leg_sid

        def fire(name: str = effect.name) -> None:
            controller.timers.pop(name, None)
            self.signal(leg_sid, m.TimerFired(name))

        controller.timers[effect.name] = self.clock.call_later(effect.seconds, fire)

    def _network(self, leg: Leg, command: m.NetworkCommand) -> None:
        kind = command.kind
        if kind == "dial":
            request = DialRequest(
                leg_sid=leg.leg_sid, account_sid=leg.account_sid,
                destination=leg.contact_e164 or leg.contact_uri,
                destination_kind="number" if leg.contact_e164 else "sip",
                caller_id=leg.caller_id_canonical, amd_enable=leg.amd_enable, dc_code=leg.dc_code,
                options={key: leg.extra[key] for key in ("amd_params", "sandbox_speech")  # type: ignore[literal-required]
                         if key in leg.extra})
            try:
                self.network.dial(request)
            except Exception as exc:  # a network that cannot even try: the leg fails to create
                log.exception("dial failed leg_sid=%s account_sid=%s", leg.leg_sid, leg.account_sid)
                asyncio.get_running_loop().call_soon(self.signal, leg.leg_sid, m.FailedToCreate(str(exc)))
        elif kind == "cancel":
            self._safely(self.network.cancel, leg.leg_sid)
        elif kind == "bye":
            self._safely(self.network.bye, leg.leg_sid)
        elif kind == "answer":
            self._safely(self.network.answer, leg.leg_sid)
        elif kind == "reject":
            self._safely(self.network.reject, leg.leg_sid, command.sip_code or 603)
        elif kind == "refer":
            self._refer(leg)

    def _refer(self, leg: Leg) -> None:
        """Send the blind transfer of the leg's `transfer` to its network (failed when it cannot transfer)."""
        transfer = leg.extra.get(TRANSFER_KEY) or {}
        network = self.network
        if not isinstance(network, Transferring):
            asyncio.get_running_loop().call_soon(self.signal, leg.leg_sid, m.TransferUpdate(
                "failed", reason=f"the {network.name} network cannot transfer calls"))
            return
        target = DialRequest(leg_sid=leg.leg_sid, account_sid=leg.account_sid,
                             destination=str(transfer.get("destination")),
                             destination_kind=str(transfer.get("destination_kind")),
                             caller_id=leg.caller_id_canonical, dc_code=leg.dc_code)
        try:
            network.refer(leg.leg_sid, target)
        except Exception as exc:
            log.exception("refer failed leg_sid=%s account_sid=%s", leg.leg_sid, leg.account_sid)
            asyncio.get_running_loop().call_soon(self.signal, leg.leg_sid, m.TransferUpdate(
                "failed", reason=f"the REFER could not be sent: {exc}"))

    def _safely(self, action: Callable[..., None], *args: object) -> None:
        try:
            action(*args)
        except Exception:
            log.exception("network command failed leg_sid=%s", args[0] if args else None)

    def _on_inbound(self, call: InboundCall) -> str | None:
        leg = self.route_inbound(call)
        if leg is None:
            return None
        controller = self._controller(leg)
        self.controllers[leg.leg_sid] = controller
        self._launched(leg)
        self.network.attach_leg(call.call_ref, leg.leg_sid)
        self._watch(self._apply(controller, controller.machine.handle(m.Incoming(), self.clock.now()), new=True))
        return leg.leg_sid


_LEG_FIELDS = tuple(f.name for f in dataclasses.fields(Leg) if f.name != "extra")


def _fingerprint(leg: Leg) -> tuple[Any, ...]:
    """Everything a snapshot of the leg would write (compared before and after an input)."""
    return (*(getattr(leg, name) for name in _LEG_FIELDS), dict(leg.extra))
