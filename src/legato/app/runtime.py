"""The composition root: builds store, clock, network, switchboard and services from Settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from legato.app.accounts import AccountService
from legato.app.admin import AdminTokens
from legato.app.bridges import BridgeService
from legato.app.calls import CallService
from legato.app.conference_waits import ConferenceWaits
from legato.app.conferences import ConferenceService
from legato.app.drain import Drain
from legato.app.events import EventService
from legato.app.idempotency import IdempotencyService
from legato.app.legs import LegService
from legato.app.prompts import PromptSources
from legato.app.rates import RateService
from legato.app.readiness import Readiness
from legato.app.transfers import TransferService
from legato.cluster.lease import Lease
from legato.cluster.node import ClusterNode
from legato.cluster.takeover import Takeover
from legato.config import Settings
from legato.domain import machine as m
from legato.domain.account import Account
from legato.domain.errors import LegatoError
from legato.domain.leg import Direction, Leg
from legato.domain.numbers import canonical
from legato.engine.bridges import Bridges
from legato.engine.clock import ScaledClock
from legato.engine.conferences import Conferences
from legato.engine.placement import Placement
from legato.engine.switchboard import Switchboard
from legato.engine.throttle import Throttle
from legato.engine.transfers import Transfers
from legato.events.dispatcher import Dispatcher, RetrySchedule
from legato.events.endpoints import EndpointPolicy
from legato.events.outbox import Outbox
from legato.events.sinks import SinkOptions
from legato.events.sinks.registry import build_sinks
from legato.network.base import InboundCall, Network
from legato.network.sandbox import SandboxDelays, SandboxNetwork
from legato.observability.metrics import Metrics
from legato.observability.wiring import observe
from legato.store.admin_tokens import AdminTokenRepository
from legato.store.console_signouts import ConsoleSignoutRepository
from legato.store.database import create_engine, database_unavailable, display_url, migrate, ping
from legato.store.idempotency import IdempotencyRepository
from legato.store.keys import key_source, unlock
from legato.store.nodes import NodeRepository
from legato.store.repositories import (
    AccountRepository,
    BridgeRepository,
    ConferenceRepository,
    LegRepository,
    RateRepository,
)
from legato.store.rows import leg_from_row
from legato.store.secrets import SecretBox
from legato.store.writer import Writer

log = logging.getLogger(__name__)
ACCOUNT_REFRESH_SECONDS = 2.0
DRAIN_SECONDS = 10.0  # at stop, how long queued writes may wait for a database that does not take them


def build_network(settings: Settings, clock: ScaledClock) -> Network:
    """The telephony backend named by `settings.network`."""
    if settings.network == "sandbox":
        return SandboxNetwork(clock, SandboxDelays(
            ring_after=settings.sandbox_ring_after, answer_after=settings.sandbox_answer_after,
            far_hangup_after=settings.sandbox_far_hangup_after, amd_after=settings.sandbox_amd_after,
            play_seconds=settings.sandbox_play_seconds, key_interval=settings.sandbox_key_interval),
            recordings_dir=settings.recordings_dir.resolve(), cache_dir=settings.media_cache_dir.resolve())
    from legato.media.process import ManagedMedia
    from legato.network.sip import SipNetwork, load_config

    if settings.config_file is None:
        raise ValueError("--network sip needs --config FILE with a [sip] table (see legato config check)")
    config = load_config(settings.config_file)
    media = ManagedMedia(rtp_ports=(config.rtp_port_min, config.rtp_port_max), rtp_host=config.listen_host,
                         advertise=config.contact_host, recordings_dir=settings.recordings_dir.resolve(),
                         cache_dir=settings.media_cache_dir.resolve(), log_format=settings.log_format,
                         speech_engine=settings.speech_engine)
    return SipNetwork(config, media)


def build_dispatcher(settings: Settings, outbox: Outbox, accounts: AccountService, clock: ScaledClock,
                     endpoints: EndpointPolicy) -> Dispatcher:
    """The event dispatcher with its sinks (checking every address they connect to) and retry schedule."""
    sinks = build_sinks(SinkOptions(settings.events_attempt_timeout, settings.events_max_connections_per_host,
                                    endpoints))
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
    conferences: ConferenceService = field(init=False)
    calls: CallService = field(init=False)
    transfers: TransferService = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.db = create_engine(s.database_url)
        self.clock = ScaledClock(s.time_scale)
        self.writer = Writer(self.db)
        self.nodes = NodeRepository(self.db)
        self.lease = Lease(self.nodes, s.node_name, ttl=s.lease_ttl, renew_every=s.lease_renew_interval)
        self.readiness = Readiness()
        self.readiness.add("database", self._database_problem)
        self.readiness.add("lease", self._lease_problem)
        self.switchboard = Switchboard(self.clock, build_network(s, self.clock), self.writer,
                                       amd_cap=s.amd_sync_cap, write_wait=s.write_wait)
        self.switchboard.recording_url = lambda leg, name: self._recording_url(leg.account_sid, name)
        self.recordings_root = s.recordings_dir.resolve()  # one folder per account inside
        self.endpoints = EndpointPolicy.for_server(s.host, s.allow_private_endpoints)
        self.accounts = AccountService(AccountRepository(self.db), SecretBox(), self.clock, endpoints=self.endpoints)
        self._build_call_control()
        outbox = Outbox(self.db, owner=s.node_name if s.bus_url else None)
        if self.writer.has_thread:
            outbox.writer = self.writer
        self.dispatcher = build_dispatcher(s, outbox, self.accounts, self.clock, self.endpoints)
        self.writer.add_listener(self.dispatcher.on_commit)
        self.events = EventService(self.legs.legs, self.dispatcher.outbox, self.dispatcher)
        self.calls = CallService(self.legs.legs)
        self.rates = RateService(RateRepository(self.db), self.clock)
        self.admin = AdminTokens(AdminTokenRepository(self.db), self.clock)
        self.console_signouts = ConsoleSignoutRepository(self.db)  # console cookies signed out (api/console.py)
        self.new_admin_token: str | None = None  # made by this start (an empty database): shown once, then None
        self.idempotency = IdempotencyService(IdempotencyRepository(self.db), self.clock)
        self.switchboard.route_inbound = self._route_inbound
        self._accounts_by_sid: dict[str, Account] = {}
        self._refresher: asyncio.Task[None] | None = None
        self.metrics = Metrics()
        observe(self, self.metrics)
        self.drain = Drain(self.switchboard, self.dispatcher, timeout=s.drain_timeout,
                           flush_timeout=s.drain_flush_timeout)
        self.metrics.gauges.draining = lambda: self.drain.draining
        self.readiness.add("drain", self.drain.readiness)
        self._build_cluster()

    def _build_cluster(self) -> None:
        """Takeover of dead nodes (always), and with a bus, this node's part in the cluster (cluster/)."""
        s = self.settings
        self.takeover = Takeover(self.nodes, self.lease, deliver=self.dispatcher.on_commit,
                                 end_legs=self._end_legs, end_bridges=self.bridges.end_rows,
                                 end_conferences=self._end_conferences)
        self.cluster: ClusterNode | None = None
        if s.bus_url:
            self.cluster = ClusterNode(s.node_name, s.bus_url, self.nodes, data_centres=s.dc_map,
                                       route_timeout=s.route_timeout, view_ttl=s.lease_renew_interval,
                                       live_legs=lambda: len(self.switchboard.controllers),
                                       accepting=lambda: not self.drain.draining, limited=self._limited,
                                       inbound_legs=self.throttle.inbound, elsewhere=self.throttle.set_elsewhere)
            self.lease.status = self.cluster.status
            self.readiness.add("bus", self.cluster.problem)

    async def _limited(self, account_sid: str) -> bool:
        """Whether the account has limits (its creates then all go to its home node, cluster/placement.py)."""
        if any(key.startswith(account_sid + ":") for key in self.settings.account_trunk_cps):
            return True
        account = self._accounts_by_sid.get(account_sid)
        if account is None:  # newer than the copies: read it (an unknown sid is left to the API's 401/404)
            try:
                account = await self.accounts.get(account_sid)
            except LegatoError:
                return False
        return account.cps is not None or account.max_concurrent is not None

    def _trunk(self, leg: Leg) -> tuple[str, int | None]:
        """The trunk the network places `leg` on and the operator's cps limit for its account there."""
        trunk = self.switchboard.network.trunk_for("number" if leg.contact_e164 else "sip", leg.caller_id_canonical)
        return trunk, self.settings.trunk_cps(leg.account_sid, trunk)

    async def _end_legs(self, rows: list[dict[str, Any]], cause: str) -> int:
        return await self.switchboard.reconcile([leg_from_row(r) for r in rows], cause)

    async def _end_conferences(self, rows: list[dict[str, Any]], cause: str) -> int:
        return await self.conferences.end_rows(rows, cause)

    def _recording_url(self, account_sid: str, file_name: str) -> str:
        """Where the account fetches a leg's or a conference's recording (with its API credentials)."""
        return f"{self.settings.base_url}/v2/accounts/{account_sid}/recordings/{file_name}"

    def _build_call_control(self) -> None:
        """CPS throttle, data-centre placement and bridges, hooked to the switchboard's leg lives."""
        s, switchboard = self.settings, self.switchboard
        self.placement = Placement(s.dc_map)
        self.throttle = Throttle(self.clock, self._start_waiting, max_queue=s.queue_max_length,
                                 max_queue_total=s.queue_max_total)
        engine = Bridges(self.clock, switchboard)
        switchboard.on_launch += [self._stamp_owner, self.placement.occupy, self._count_inbound]
        switchboard.on_end += [self.placement.vacate, lambda leg: self.throttle.forget(leg.leg_sid), engine.leg_ended]
        legs = LegRepository(self.db)
        self.legs = LegService(legs, switchboard, self.clock, placement=self.placement, throttle=self.throttle,
                               queue_max_wait=s.queue_max_wait, trunk=self._trunk, endpoints=self.endpoints,
                               secret=self.accounts.webhook_secret,
                               prompts=PromptSources(tuple(s.play_dirs), tuple(s.play_url_prefixes),
                                                     s.media_cache_dir.resolve(), self.endpoints))
        self.bridges = BridgeService(BridgeRepository(self.db), legs, engine, self.clock, self.writer,
                                     endpoints=self.endpoints)
        transfers = Transfers(switchboard, engine)
        self.transfers = TransferService(self.legs, transfers)
        mixer = Conferences(self.clock, switchboard, self._recording_url)
        switchboard.on_end.append(mixer.leg_ended)
        self.conferences = ConferenceService(ConferenceRepository(self.db), legs, mixer, self.clock, self.writer,
                                             endpoints=self.endpoints, waits=ConferenceWaits(self.legs))

    def _count_inbound(self, leg: Leg) -> None:
        """An inbound leg holds one of its account's max_concurrent slots while it lives (throttle.forget at its
        end); on a cluster the other nodes count it through this node's lease (ClusterNode.status)."""
        if leg.direction is Direction.INBOUND:
            self.throttle.occupy(leg.leg_sid, leg.account_sid)

    def _stamp_owner(self, leg: Leg) -> None:
        leg.node = self.settings.node_name

    def _start_waiting(self, leg_sid: str, at: datetime) -> None:
        """The throttle opened a slot for an enqueued leg: dial it (or free the slot if it is gone)."""
        if self.switchboard.get(leg_sid) is None:
            self.throttle.forget(leg_sid)
        else:
            self.switchboard.signal(leg_sid, m.Start(), at)

    async def open_store(self) -> None:
        """Migrate the schema and unlock the secret key (KeyProblem when the key is missing or wrong)."""
        s = self.settings
        await migrate(self.db)
        source = key_source(s.database_url, s.secret_key.get_secret_value() if s.secret_key else None,
                            s.secret_key_file, cluster=s.bus_url is not None)
        fingerprint = await unlock(self.db, self.accounts.box, source)
        log.info("store database=%s secret_key=%s key_fingerprint=%s",
                 display_url(s.database_url), source.where, fingerprint)

    async def start(self) -> None:
        """Open the store, take this node's lease (LeaseHeld when a running process has it), end what this
        node's previous incarnation left live, take over nodes that are dead, then take calls."""
        await self.open_store()
        self.new_admin_token = await self.admin.ensure()
        self.writer.owner = (self.lease.name, await self.lease.acquire())
        self.lease.start()
        await self.writer.start()
        await self._reconcile()
        await self.dispatcher.start()
        await self.takeover.run_once()
        self.takeover.start()
        await self._refresh_accounts()
        self._refresher = asyncio.create_task(self._keep_accounts_fresh(), name="legato-accounts")
        await self.switchboard.start()

    async def _reconcile(self) -> None:
        """End what this node's own previous incarnation left live (platform_restart). Other nodes' legs are
        left to their owner, or to the takeover once its lease has expired (cluster/takeover.py)."""
        owner, cause = self.lease.name, "platform_restart"
        ended = await self.switchboard.reconcile(await self.legs.legs.live(owner), cause)
        bridges = await self.bridges.reconcile(owner, cause)
        conferences = await self.conferences.reconcile(owner, cause)
        if ended or bridges or conferences:
            log.warning("reconciled what node %s left live legs=%d bridges=%d conferences=%d cause=%s", owner,
                        ended, bridges, conferences, cause)

    async def _database_problem(self) -> str | None:
        if self.writer.fenced:
            return "this node was fenced: it writes nothing more"
        if not self.writer.available:
            return f"writes have been failing for {self.writer.outage_seconds():.1f} s; they are retried"
        return await ping(self.db)

    async def _lease_problem(self) -> str | None:
        return self.lease.problem()

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
            except Exception as exc:
                log.error("account refresh failed error=%s", exc, exc_info=not database_unavailable(exc))

    def _route_inbound(self, call: InboundCall) -> Leg | None:
        """The inbound leg for a call to an exophone, or None (404) when no account owns the number."""
        self.drain.check_taking_legs()  # Draining: the SIP network answers 503 with Retry-After
        owner = getattr(self.switchboard.network, "account_sid_for", None)
        account_sid = owner(call.called) if owner else None
        if account_sid is None:  # numbers compared in E.164, national ones read in each account's region
            account_sid = next((a.account_sid for a in self._accounts_by_sid.values()
                                if canonical(call.called, a.default_region) in a.exophones), None)
        account = self._accounts_by_sid.get(account_sid or "")
        if account is None or account.disabled:
            log.warning("inbound call to an exophone with no account called=%s account_sid=%s", call.called,
                        account_sid)
            return None
        return self.legs.inbound_leg(account, call.caller, call.called)

    async def stop(self) -> None:
        """Stop in the order writes flow: first what makes or sends work (takeover, the bus, the throttle, the
        network), then the dispatcher, whose recorder writes its last attempts through the writer, then the
        writer (it drains what call control queued; a write after it is refused), the lease, the database."""
        await self.takeover.stop()
        if self.cluster is not None:
            await self.cluster.stop()
        self.throttle.close()
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        await self.switchboard.stop()
        await self.dispatcher.stop(grace=self.settings.events_attempt_timeout)
        await self.writer.stop(DRAIN_SECONDS)
        await self.lease.release()
        await self.db.dispose()
