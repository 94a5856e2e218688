"""Leg use-cases: create, read, list, act on, receive (their request models: app/leg_requests.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from legato.app import idempotency
from legato.app.accounts import check_amd_params
from legato.app.actions import start_stream
from legato.app.actions.base import ActionContext
from legato.app.actions.registry import ACTIONS
from legato.app.flow_fields import flow_extra, inbound_flow
from legato.app.leg_requests import (
    CreateLeg,
    LegAction,
    SandboxIncoming,
    check_action_fields,
    check_caller_id,
    decode_cursor,
    encode_cursor,
)
from legato.app.prompts import PromptSources
from legato.app.streams import (
    SANDBOX_KEY,
    STREAM_KEY,
    SandboxFarEnd,
    SecretLookup,
    StreamRequest,
    Streams,
    stream_sid,
)
from legato.domain import machine as m
from legato.domain.account import Account
from legato.domain.clock import Clock
from legato.domain.errors import Conflict, LegatoError, NotFound, ValidationFailed
from legato.domain.ids import new_call_sid, new_leg_sid
from legato.domain.leg import EXOPHONE_CANONICAL_KEY, FLOW_KEY, Direction, Leg, LegExtra, LegState
from legato.domain.numbers import canonical, parse_address
from legato.engine.placement import Placement
from legato.engine.switchboard import Switchboard
from legato.engine.throttle import Limits, Throttle
from legato.events.endpoints import EndpointPolicy
from legato.events.sinks.registry import check_event_endpoint
from legato.store.repositories import LegRepository

__all__ = ["CreateLeg", "LegAction", "LegService", "SandboxIncoming"]


class LegService:
    """Everything an application can do with legs."""

    def __init__(self, legs: LegRepository, switchboard: Switchboard, clock: Clock, *, placement: Placement,
                 throttle: Throttle | None = None, queue_max_wait: float | None = None,
                 trunk: Callable[[Leg], tuple[str, int | None]] = lambda leg: ("direct", None),
                 endpoints: EndpointPolicy | None = None, prompts: PromptSources | None = None,
                 secret: SecretLookup | None = None) -> None:
        self.legs = legs
        self.endpoints = endpoints or EndpointPolicy(allow_loopback=True)
        self.streams = Streams(self.endpoints, secret)
        self._tasks: set[asyncio.Task[None]] = set()
        switchboard.on_connect.append(self._stream_at_answer)
        self.prompts = prompts or PromptSources()
        self.switchboard = switchboard
        self.clock = clock
        self.placement = placement
        self.throttle = throttle
        self.queue_max_wait = queue_max_wait
        self.trunk = trunk  # the trunk a leg goes out on and the account's cps limit there (app/runtime.py)
        self.transfer: Callable[[Account, Leg, LegAction], Awaitable[Leg]] | None = None  # app/transfers.py

    async def create(self, account: Account, request: CreateLeg, *, internal: bool = False,
                     extra: LegExtra | dict[str, Any] | None = None, leg_sid: str | None = None) -> Leg:
        """Validate, record durably, and start dialling; returns the leg as accepted. `internal`: placed by a
        call flow (<Dial>), which may give no endpoint; `extra` is added to the leg's extra; `leg_sid` chosen
        beforehand (the leg an attended transfer dials)."""
        contact = parse_address(request.contact_uri, "contact_uri", account.default_region)
        if contact.kind == "sip" and request.network_type != "voip":
            raise ValidationFailed("network_type must be voip when contact_uri is a sip: URI", field="network_type")
        if contact.kind == "number" and request.network_type != "pstn":
            raise ValidationFailed("network_type voip needs a sip: URI in contact_uri; numbers are pstn",
                                   field="network_type")
        exophone = check_caller_id(account, request.exophone)
        if request.leg_event_endpoint is not None:
            await check_event_endpoint(self.endpoints, request.leg_event_endpoint)
        elif request.flow_url is None and not internal:
            raise ValidationFailed("leg_event_endpoint is required unless flow_url is given",
                                   field="leg_event_endpoint")
        flow = await flow_extra(request.model_dump(), self.endpoints)
        if request.flow_fallback_url and not request.flow_url:
            raise ValidationFailed("flow_fallback_url needs flow_url", field="flow_fallback_url")
        if request.async_amd and not request.amd_enable:
            raise ValidationFailed("async_amd needs amd_enable true", field="async_amd")
        if request.amd_params is not None and not request.amd_enable:
            raise ValidationFailed("amd_params needs amd_enable true", field="amd_params")
        amd_params = {**account.amd_params, **check_amd_params(request.amd_params or {})}
        if request.stream is not None:
            await self.streams.check(request.stream, "stream.")
        reference, call_sid = None, new_call_sid()
        if request.reference_leg_sid:
            reference = self.switchboard.get(request.reference_leg_sid)
            if reference is None or reference.account_sid != account.account_sid:
                reference = await self.legs.get(account.account_sid, request.reference_leg_sid)
            if reference is None:
                raise ValidationFailed("reference_leg_sid is not a leg of this account", field="reference_leg_sid")
            call_sid = reference.call_sid
        dc_code, nso_code = self.placement.place(requested_dc=request.requested_dc_code,
                                                 requested_nso=request.requested_nso_code, reference=reference)
        leg = Leg(
            leg_sid=leg_sid or new_leg_sid(), account_sid=account.account_sid, call_sid=call_sid,
            direction=Direction.OUTBOUND, contact_uri=request.contact_uri, contact_e164=contact.e164,
            exophone=request.exophone, network_type=request.network_type,
            leg_event_endpoint=request.leg_event_endpoint, date_created=self.clock.now(),
            custom_param=request.custom_param, time_limit=request.time_limit, timeout=request.timeout,
            setup_timeout=request.setup_timeout, ring_timeout=request.ring_timeout, dc_code=dc_code,
            nso_code=nso_code, reference_leg_sid=request.reference_leg_sid, amd_enable=request.amd_enable,
            async_amd=request.async_amd, priority=request.priority,
            extra={EXOPHONE_CANONICAL_KEY: exophone.canonical})
        if request.event_format != "exotel":
            leg.extra["event_format"] = request.event_format
        if request.amd_enable and amd_params:
            leg.extra["amd_params"] = amd_params
        if flow:
            leg.extra[FLOW_KEY] = flow
        if request.sandbox_speech is not None:
            leg.extra["sandbox_speech"] = request.sandbox_speech
        if request.stream is not None:
            leg.extra[STREAM_KEY] = request.stream.model_dump()
        await self._far_end(leg, request.sandbox_far_end)
        leg.extra.update(extra or {})  # type: ignore[typeddict-item]
        await idempotency.bind_current(leg.leg_sid)  # before the leg is durable: a crash after it is settled by it
        return await self._dial(account, leg)

    async def _dial(self, account: Account, leg: Leg) -> Leg:
        """Start the leg now, or enqueue it when CPS control says so (429 when its queue is full)."""
        first: m.Input = m.Start()
        throttle, now = self.throttle, self.clock.now()
        if throttle is not None:
            trunk, trunk_cps = self.trunk(leg)
            limits = Limits(account.cps, account.max_concurrent, trunk_cps)
            if not throttle.admit(leg.leg_sid, account.account_sid, limits, trunk=trunk, priority=leg.priority,
                                  now=now):
                first = m.Enqueue(self.queue_max_wait)
        try:
            return await self.switchboard.launch(leg, first, at=now)  # the start carries the slot's moment
        except BaseException:
            if throttle is not None:
                throttle.forget(leg.leg_sid)
            raise

    async def get(self, account: Account, leg_sid: str) -> Leg:
        """The account's leg, or NotFound (also for other accounts' legs)."""
        leg = await self.legs.get(account.account_sid, leg_sid)
        if leg is None:
            raise NotFound("no such leg", field="leg_sid")
        return leg

    async def page(self, account: Account, *, state: str | None = None, direction: str | None = None,
                   date_from: datetime | None = None, date_to: datetime | None = None, limit: int = 50,
                   cursor: str | None = None) -> tuple[list[Leg], str | None]:
        """A page of legs, newest first, and the cursor of the next page (None at the end)."""
        before = decode_cursor(cursor) if cursor else None
        legs = await self.legs.page(account.account_sid, state=state, direction=direction, date_from=date_from,
                                    date_to=date_to, limit=limit + 1, before=before)
        more = len(legs) > limit
        legs = legs[:limit]
        return legs, encode_cursor(legs[-1].leg_sid) if more else None

    async def act(self, account: Account, leg_sid: str, action: LegAction) -> Leg:
        """Carry out an action on a live leg; 409 when its state does not allow it."""
        leg, _ = await self.act_with_result(account, leg_sid, action)
        return leg

    async def act_with_result(self, account: Account, leg_sid: str, action: LegAction
                              ) -> tuple[Leg, dict[str, Any]]:
        """As `act`; also what a media action returned (play_id, recording_id...)."""
        live = self.switchboard.get(leg_sid)  # newer than the store while its last change commits
        leg = live if live is not None and live.account_sid == account.account_sid else await self.get(account, leg_sid)
        if leg.state is LegState.TERMINAL:
            raise Conflict(f"leg is terminal ({leg.terminal_status}); nothing to {action.action}", field="action")
        check_action_fields(action)
        spec, context = ACTIONS[action.action], ActionContext(account, leg, self)
        if spec.command is not None:
            if leg.state is not LegState.CONNECTED:
                raise Conflict(f"{action.action} needs a connected leg (this one is {leg.state})", field="action")
            result = await self.switchboard.media(leg_sid, await spec.command(action, context))
            return self.switchboard.get(leg_sid) or leg, result
        assert spec.control is not None
        return await spec.control(action, context), {}

    def _stream_at_answer(self, leg: Leg) -> None:
        """A leg created (or answered) with `"stream"` connected: start its stream in the background."""
        spec = leg.extra.get(STREAM_KEY)
        if not isinstance(spec, dict):
            return
        task = asyncio.get_running_loop().create_task(self._start_stream(leg.leg_sid, leg.account_sid, spec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _start_stream(self, leg_sid: str, account_sid: str, spec: dict[str, Any]) -> None:
        sid = stream_sid()
        try:
            stream = await self.streams.start_spec(account_sid, StreamRequest.model_validate(spec), sid, "stream.")
            await self.switchboard.media(leg_sid, start_stream.for_leg(self.switchboard.get(leg_sid), stream))
        except LegatoError as exc:  # the leg stays up; the application hears why through the event
            reason = "unreachable" if isinstance(exc, ValidationFailed) else "error"
            self.switchboard.signal(leg_sid, m.MediaEvent("stream_stopped", {"stream_sid": sid, "reason": reason,
                                                                             "message": exc.message}))

    async def _far_end(self, leg: Leg, far_end: SandboxFarEnd | None) -> None:
        """Keep what a sandbox leg's far end says to streams (its WAV checked and resolved now)."""
        if far_end is None:
            return
        data = far_end.model_dump(exclude_none=True)
        if far_end.play:
            try:
                data["play"] = await self.prompts.resolve(far_end.play)
            except ValidationFailed as exc:
                raise ValidationFailed(exc.message, field="sandbox_far_end.play") from None
        leg.extra[SANDBOX_KEY] = data

    async def events(self, account: Account, leg_sid: str) -> list[dict[str, Any]]:
        """The leg's events in order, with delivery status."""
        await self.get(account, leg_sid)
        return await self.legs.events(leg_sid)

    def inbound_leg(self, account: Account, caller: str, called: str) -> Leg:
        """Build (not yet start) an inbound leg from `caller` to the account's exophone `called`."""
        try:
            caller_e164 = parse_address(caller, "from", account.default_region).e164
        except ValidationFailed:  # anonymous or odd caller ids still ring
            caller_e164 = None
        dc_code, nso_code = self.placement.place()
        leg = Leg(
            leg_sid=new_leg_sid(), account_sid=account.account_sid, call_sid=new_call_sid(),
            direction=Direction.INBOUND, contact_uri=caller, contact_e164=caller_e164, exophone=called,
            network_type="pstn" if caller_e164 else "voip",
            leg_event_endpoint=account.inbound_endpoint, date_created=self.clock.now(),
            dc_code=dc_code, nso_code=nso_code)
        flow = inbound_flow(account.flow_for(canonical(called, account.default_region)))
        if flow:
            leg.extra[FLOW_KEY] = flow
        return leg

    async def sandbox_incoming(self, account: Account, request: SandboxIncoming) -> Leg:
        """Make a simulated call arrive at one of the account's exophones."""
        called = parse_address(request.to, "to", account.default_region)
        if called.canonical not in account.exophones:
            raise ValidationFailed("to must be one of the account's exophones "
                                   "(legato accounts update --exophone N)", field="to")
        parse_address(request.from_, "from", account.default_region)
        leg = self.inbound_leg(account, request.from_, request.to)
        await self._far_end(leg, request.sandbox_far_end)
        if request.sandbox_speech is not None:
            leg.extra["sandbox_speech"] = request.sandbox_speech
        return await self.switchboard.launch(leg, m.Incoming())
