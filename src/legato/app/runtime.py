"""The composition root: builds store, clock, network, switchboard and services from Settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from legato.app.accounts import AccountService
from legato.app.bridges import BridgeService
from legato.app.calls import CallService
from legato.app.events import EventService
from legato.app.legs import LegService
from legato.app.prompts import PromptSources
from legato.app.rates import RateService
from legato.config import Settings
from legato.domain import machine as m
from legato.domain.account import Account
from legato.domain.errors import ValidationFailed
from legato.domain.leg import Leg
from legato.domain.numbers import parse_address
from legato.engine.bridges import Bridges
from legato.engine.clock import ScaledClock
from legato.engine.placement import Placement
from legato.engine.switchboard import Switchboard
from legato.engine.throttle import Throttle
from legato.events.dispatcher import Dispatcher, RetrySchedule
from legato.events.endpoints import EndpointPolicy
from legato.events.outbox import Outbox
from legato.events.sinks import SinkOptions
from legato.events.sinks.registry import build_sinks
from legato.network.base import InboundCall, Network
from legato.network.sandbox import SandboxDelays, SandboxNetwork
from legato.store.database import create_engine, migrate
from legato.store.repositories import AccountRepository, BridgeRepository, LegRepository, RateRepository
from legato.store.secrets import SecretBox
from legato.store.writer import Writer

log = logging.getLogger(__name__)
ACCOUNT_REFRESH_SECONDS = 2.0


def build_network(settings: Settings, clock: ScaledClock) -> Network:
    """The telephony backend named by `settings.network`."""
    if settings.network == "sandbox":
        return SandboxNetwork(clock, SandboxDelays(
            ring_after=settings.sandbox_ring_after, answer_after=settings.sandbox_answer_after,
            far_hangup_after=settings.sandbox_far_hangup_after, amd_after=settings.sandbox_amd_after,
            play_seconds=settings.sandbox_play_seconds, key_interval=settings.sandbox_key_interval),
            recordings_dir=settings.recordings_dir.resolve())
    from legato.media.process import ManagedMedia
    from legato.network.sip import SipNetwork, load_config

    if settings.config_file is None:
        raise ValueError("--network sip needs --config FILE with a [sip] table (see legato config check)")
    config = load_config(settings.config_file)
    media = ManagedMedia(rtp_ports=(config.rtp_port_min, config.rtp_port_max), rtp_host=config.listen_host,
                         advertise=config.contact_host, recordings_dir=settings.recordings_dir.resolve(),
                         cache_dir=settings.media_cache_dir.resolve())
    return SipNetwork(config, media)


def build_dispatcher(settings: Settings, outbox: Outbox, accounts: AccountService, clock: ScaledClock) -> Dispatcher:
    """The event dispatcher with its sinks and retry schedule from `settings`."""
    sinks = build_sinks(SinkOptions(settings.events_attempt_timeout, settings.events_max_connections_per_host))
    schedule = RetrySchedule(settings.events_backoff_base, settings.events_backoff_max, settings.events_give_up_after)
    return Dispatcher(outbox, sinks, accounts.webhook_secret,
                      clock, schedule=schedule, time_scale=settings.time_scale)


@dataclass
class Runtime:
    """Everything a running Legato holds."""

    settings: Settings
    db: AsyncEngine = field(init=False)
    clock: ScaledClock = field(init=False)
    writer: Writer = field(init=False)
    switchboard: Switchboard = field(init=False)
    placement: Placement = field(init=False)
    throttle: Throttle = field(init=False)
    accounts: AccountService = field(init=False)
    legs: LegService = field(init=False)
    endpoints: EndpointPolicy = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    events: EventService = field(init=False)
    bridges: BridgeService = field(init=False)
    calls: CallService = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.db = create_engine(s.database_url)
        self.clock = ScaledClock(s.time_scale)
        self.writer = Writer(self.db)
        self.switchboard = Switchboard(self.clock, build_network(s, self.clock), self.writer,
                                       amd_cap=s.amd_sync_cap)
        self.switchboard.recording_url = self._recording_url
        self.recordings_root = s.recordings_dir.resolve()  # one folder per account inside
        self.endpoints = EndpointPolicy.for_server(s.host, s.allow_private_endpoints)
        self.accounts = AccountService(AccountRepository(self.db), SecretBox(s.secret_key_file), self.clock,
                                       endpoints=self.endpoints)
        self._build_call_control()
        self.dispatcher = build_dispatcher(s, Outbox(self.db), self.accounts, self.clock)
        self.writer.add_listener(self.dispatcher.on_commit)
        self.events = EventService(self.legs.legs, self.dispatcher.outbox, self.dispatcher)
        self.calls = CallService(self.legs.legs)
        self.rates = RateService(RateRepository(self.db), self.clock)
        self.switchboard.route_inbound = self._route_inbound
        self._accounts_by_sid: dict[str, Account] = {}
        self._refresher: asyncio.Task[None] | None = None

    def _recording_url(self, leg: Leg, file_name: str) -> str:
        """Where the account fetches a recording (with its API credentials)."""
        return f"{self.settings.base_url}/v2/accounts/{leg.account_sid}/recordings/{file_name}"

    def _build_call_control(self) -> None:
        """CPS throttle, data-centre placement and bridges, hooked to the switchboard's leg lives."""
        s, switchboard = self.settings, self.switchboard
        self.placement = Placement(s.dc_map)
        self.throttle = Throttle(self.clock, self._start_waiting, max_queue=s.queue_max_length,
                                 max_queue_total=s.queue_max_total)
        engine = Bridges(self.clock, switchboard)
        switchboard.on_launch.append(self.placement.occupy)
        switchboard.on_end += [self.placement.vacate, lambda leg: self.throttle.forget(leg.leg_sid), engine.leg_ended]
        legs = LegRepository(self.db)
        self.legs = LegService(legs, switchboard, self.clock, placement=self.placement, throttle=self.throttle,
                               queue_max_wait=s.queue_max_wait, trunk_cps=s.trunk_cps, endpoints=self.endpoints,
                               prompts=PromptSources(tuple(s.play_dirs), tuple(s.play_url_prefixes),
                                                     s.media_cache_dir.resolve()))
        self.bridges = BridgeService(BridgeRepository(self.db), legs, engine, self.clock, self.writer,
                                     endpoints=self.endpoints)

    def _start_waiting(self, leg_sid: str, at: datetime) -> None:
        """The throttle opened a slot for an enqueued leg: dial it (or free the slot if it is gone)."""
        if self.switchboard.get(leg_sid) is None:
            self.throttle.forget(leg_sid)
        else:
            self.switchboard.signal(leg_sid, m.Start(), at)

    async def open_store(self) -> None:
        """Migrate the schema (for CLI commands that only touch the store)."""
        await migrate(self.db)

    async def start(self) -> None:
        """Migrate, reconcile legs a previous process left live, then take calls."""
        await migrate(self.db)
        await self.writer.start()
        stale = await self.legs.legs.live()
        if stale:
            ended = await self.switchboard.reconcile(stale)
            log.warning("reconciled legs left live by a previous process count=%d", ended)
        bridges = await self.bridges.reconcile()
        if bridges:
            log.warning("reconciled bridges left active by a previous process count=%d", bridges)
        await self.dispatcher.start()
        await self._refresh_accounts()
        self._refresher = asyncio.create_task(self._keep_accounts_fresh(), name="legato-accounts")
        await self.switchboard.start()

    async def _refresh_accounts(self) -> None:
        self._accounts_by_sid = {a.account_sid: a for a in await self.accounts.all()}
        if await self.rates.changed():
            self.switchboard.rates = await self.rates.newest()

    async def _keep_accounts_fresh(self) -> None:
        """Keep copies of accounts (inbound routing cannot wait for the database) and the rate table fresh."""
        while True:
            await asyncio.sleep(ACCOUNT_REFRESH_SECONDS)
            try:
                await self._refresh_accounts()
            except Exception:
                log.exception("account refresh failed")

    def _route_inbound(self, call: InboundCall) -> Leg | None:
        """The inbound leg for a call to an exophone, or None (404) when no account owns the number."""
        owner = getattr(self.switchboard.network, "account_sid_for", None)
        account_sid = owner(call.called) if owner else None
        if account_sid is None:
            try:
                called = parse_address(call.called, "to").canonical
            except ValidationFailed:
                return None
            account_sid = next((a.account_sid for a in self._accounts_by_sid.values() if called in a.exophones), None)
        account = self._accounts_by_sid.get(account_sid or "")
        if account is None:
            log.warning("inbound call to an exophone with no account called=%s account_sid=%s", call.called,
                        account_sid)
            return None
        return self.legs.inbound_leg(account, call.caller, call.called)

    async def stop(self) -> None:
        self.throttle.close()
        if self._refresher is not None:
            self._refresher.cancel()
        await self.switchboard.stop()
        await self.writer.stop()
        await self.dispatcher.stop()
        await self.db.dispose()
