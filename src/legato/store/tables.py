"""Table definitions (SQLAlchemy Core), portable between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("account_sid", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("api_key", String(64), nullable=False, unique=True),
    Column("token_hash", String(128), nullable=False),
    Column("webhook_secret_enc", Text, nullable=False),
    Column("cps", Integer, nullable=True),
    Column("max_concurrent", Integer, nullable=True),
    Column("inbound_endpoint", Text, nullable=True),
    Column("exophones", JSON, nullable=False, default=list),
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("default_region", String(2), nullable=False, default="IN"),  # national numbers are read here
    Column("caller_ids", JSON, nullable=False, default=list),  # caller ids allowed besides the exophones
    Column("disabled_at", UTCDateTime, nullable=True),  # set: the API refuses the account (403), no new legs
)

# The operator's admin token (hashed), for the /v2/accounts administration routes: one row, "operator".
admin_tokens = Table(
    "admin_tokens", metadata,
    Column("name", String(32), primary_key=True),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rotated_at", UTCDateTime, nullable=False),
)

console_signouts = Table(
    "console_signouts", metadata,  # console session cookies signed out before they expire (refused until then)
    Column("digest", String(64), primary_key=True),  # sha256 of the cookie's value
    Column("expires_at", UTCDateTime, nullable=False),
)

# Fingerprints of the key that encrypts webhook secrets: a process holding another key refuses to start.
secret_keys = Table(
    "secret_keys", metadata,
    Column("purpose", String(32), primary_key=True),  # "webhook_secrets"
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

legs = Table(
    "legs", metadata,
    Column("leg_sid", String(40), primary_key=True),
    Column("account_sid", String(64), nullable=False),
    Column("call_sid", String(40), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("contact_uri", Text, nullable=False),
    Column("contact_e164", String(20), nullable=True),
    Column("exophone", Text, nullable=False),
    Column("network_type", String(8), nullable=False),
    Column("custom_param", Text, nullable=True),
    Column("leg_event_endpoint", Text, nullable=True),
    Column("time_limit", Integer, nullable=False),
    Column("timeout", Integer, nullable=False),
    Column("setup_timeout", Integer, nullable=False),
    Column("ring_timeout", Integer, nullable=False),
    Column("dc_code", String(32), nullable=True),
    Column("nso_code", String(64), nullable=True),
    Column("reference_leg_sid", String(40), nullable=True),
    Column("amd_enable", Boolean, nullable=False),
    Column("async_amd", Boolean, nullable=False),
    Column("priority", String(8), nullable=False),
    Column("state", String(12), nullable=False),
    Column("terminal_status", String(12), nullable=True),
    Column("hangup_cause_code", Integer, nullable=True),
    Column("hangup_cause", String(64), nullable=True),
    Column("hangup_source", String(12), nullable=True),
    Column("answered_by", String(8), nullable=True),
    Column("date_created", UTCDateTime, nullable=False),
    Column("date_updated", UTCDateTime, nullable=False),
    Column("start_time", UTCDateTime, nullable=True),
    Column("answer_time", UTCDateTime, nullable=True),
    Column("end_time", UTCDateTime, nullable=True),
    Column("sip_response_code", Integer, nullable=True),
    Column("sip_reason", Text, nullable=True),
    Column("event_sequence", Integer, nullable=False),
    Column("extra", JSON, nullable=False),
    Column("node", String(64), nullable=True),  # the owner node (nodes.name) that wrote this snapshot
    Column("node_epoch", Integer, nullable=True),  # the owner's epoch then (fencing)
    Index("ix_legs_account_sid_leg_sid", "account_sid", "leg_sid"),
    Index("ix_legs_state", "state"),
    Index("ix_legs_call_sid", "call_sid"),
    Index("ix_legs_node", "node"),
)

# The outbox: every event stream in one table, each event of one subject (a leg, a bridge or a conference)
# with its own sequence, delivered in that order by the dispatcher.
SUBJECTS = ("leg", "bridge", "conference")

events = Table(
    "events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_sid", String(40), nullable=False, unique=True),
    Column("subject", String(12), nullable=False),  # one of SUBJECTS
    Column("subject_sid", String(40), nullable=False),  # its leg_sid, bridge_sid or conference_sid
    Column("account_sid", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("event_name", String(40), nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("endpoint", Text, nullable=True),
    Column("status", String(16), nullable=False),  # pending | delivered | failed | undeliverable
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    UniqueConstraint("subject", "subject_sid", "sequence", name="uq_events_subject_sequence"),
    Index("ix_events_status_next", "status", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_sid", String(40), nullable=False),
    Column("subject_sid", String(40), nullable=False),  # the event's subject_sid
    Column("attempt", Integer, nullable=False),  # 1, 2, ... per event (redeliveries continue the count)
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("outcome", String(12), nullable=False),  # delivered | retry | failed
    Column("status_code", Integer, nullable=True),  # HTTP status, or the gRPC status code number
    Column("status", String(40), nullable=True),  # HTTP reason phrase or gRPC status name
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Index("ix_delivery_attempts_subject_sid", "subject_sid", "event_sid"),
)

bridges = Table(
    "bridges", metadata,
    Column("bridge_sid", String(40), primary_key=True),
    Column("account_sid", String(64), nullable=False),
    Column("call_sid", String(40), nullable=False),
    Column("dc_code", String(32), nullable=True),
    Column("leg_sids", JSON, nullable=False),
    Column("bridge_event_endpoint", Text, nullable=True),
    Column("end_on_exit", Boolean, nullable=False),
    Column("state", String(12), nullable=False),  # active | terminated
    Column("end_reason", String(64), nullable=True),
    Column("ended_by_leg_sid", String(40), nullable=True),
    Column("date_created", UTCDateTime, nullable=False),
    Column("date_updated", UTCDateTime, nullable=False),
    Column("end_time", UTCDateTime, nullable=True),
    Column("event_sequence", Integer, nullable=False),
    Column("node", String(64), nullable=True),
    Column("node_epoch", Integer, nullable=True),
    Index("ix_bridges_account_sid_bridge_sid", "account_sid", "bridge_sid"),
    Index("ix_bridges_state", "state"),
    Index("ix_bridges_node", "node"),
)

conferences = Table(
    "conferences", metadata,
    Column("conference_sid", String(40), primary_key=True),
    Column("account_sid", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("conference_event_endpoint", Text, nullable=True),
    Column("event_format", String(32), nullable=True),
    Column("status_callback", JSON, nullable=True),  # TwiML statusCallback: {"events": [...], "method": ...}
    Column("record", Boolean, nullable=False),
    Column("max_participants", Integer, nullable=False),
    Column("end_when_empty", Boolean, nullable=False),
    Column("dc_code", String(32), nullable=True),
    Column("participants", JSON, nullable=False),  # every participant, present or left, in joining order
    Column("state", String(12), nullable=False),  # active | completed
    Column("end_reason", String(64), nullable=True),
    Column("recording_url", Text, nullable=True),
    Column("date_created", UTCDateTime, nullable=False),
    Column("date_updated", UTCDateTime, nullable=False),
    Column("end_time", UTCDateTime, nullable=True),
    Column("event_sequence", Integer, nullable=False),
    Column("node", String(64), nullable=True),
    Column("node_epoch", Integer, nullable=True),
    Index("ix_conferences_account_sid_conference_sid", "account_sid", "conference_sid"),
    Index("ix_conferences_state", "state"),
)

rate_tables = Table(
    "rate_tables", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("body", Text, nullable=False),  # the CSV as imported; the newest row is the table in force
    Column("imported_at", UTCDateTime, nullable=False),
)

nodes = Table(
    "nodes", metadata,  # one row per node name: its lease, and the epoch that fences a lost incarnation
    Column("name", String(64), primary_key=True),
    Column("epoch", Integer, nullable=False),  # +1 each time the name is taken (a start, or a takeover)
    Column("lease_expires_at", UTCDateTime, nullable=False),
    Column("renewed_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("host", String(255), nullable=True),
    Column("pid", Integer, nullable=True),
    Column("data_centres", Text, nullable=True),  # JSON {dc_code: [nso_code, ...]} this node serves
    Column("live_legs", Integer, nullable=True),  # its live legs at the last renewal (placement by load)
    Column("bus", Boolean, nullable=True),  # true when it answers commands on the bus (a cluster node)
    Column("inbound_legs", Text, nullable=True),  # JSON {account_sid: n}: its live inbound legs (max_concurrent)
)

cluster_identity = Table(
    "cluster_identity", metadata,  # one row: the id the nodes on this database share (their bus subjects)
    Column("id", Integer, primary_key=True),
    Column("cluster_id", String(32), nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("account_sid", String(64), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("status_code", Integer, nullable=True),  # null while the first request is still acting
    Column("body", Text, nullable=True),  # the first answer's body, replayed as it was
    Column("resource_sid", String(64), nullable=True),  # what the first request made, bound before it was durable
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_keys_created_at", "created_at"),
)
