"""The one configuration object: built at start from LEGATO_* variables, overridden by CLI flags."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from legato.speech.registry import ENGINES


def default_data_dir() -> Path:
    """Where the default SQLite database and its key live: $XDG_DATA_HOME/legato, else ~/.local/share/legato."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "legato"


DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")  # the async drivers Legato ships with


class Settings(BaseSettings):
    """Everything Legato reads at start. Field names map to LEGATO_<NAME> environment variables."""

    model_config = SettingsConfigDict(env_prefix="LEGATO_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # The database (default: SQLite at DATA_DIR/legato.db, the same whatever folder a command runs in).
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str = ""
    network: str = Field("sandbox", pattern="^(sandbox|sip)$")
    time_scale: float = Field(1.0, gt=0, le=10_000)
    # The key that encrypts webhook secrets (see store/keys.py): a value, a file, or (SQLite) the file
    # beside the database. PostgreSQL needs one of the first two, shared by every node.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    log_format: str = Field("text", pattern="^(text|json)$")
    dc_code: str = "101"
    nso_code: str = "a8140aaa-ce40-11ed-9a09-0242ac110003"
    # Data centres this node serves, each with its nso codes (`--dc 101=nso-a,nso-b`); empty: {dc_code: [nso_code]}.
    data_centres: dict[str, list[str]] = Field(default_factory=dict)
    # CPS throughput control: bounds of the per-account queue (max wait in clock seconds), and the
    # operator's cps per account and trunk pair, keyed "ACCOUNT_SID:TRUNK" (the sandbox's trunk is "sandbox").
    queue_max_wait: float = Field(300.0, gt=0)
    queue_max_length: int = Field(1000, ge=0)
    queue_max_total: int = Field(100_000, ge=0)
    account_trunk_cps: dict[str, int] = Field(default_factory=dict)
    # Sync AMD: longest wait (seconds) for the verdict before leg_answered goes out without it.
    amd_sync_cap: float = Field(10.0, gt=0)
    # Media on live legs: where recordings are stored (one folder per account; served at
    # /v2/accounts/{sid}/recordings/{file}), the media engine's TTS cache, and what `play` may use:
    # WAV files under these folders, or URLs starting with these prefixes.
    recordings_dir: Path = Path("./recordings")
    media_cache_dir: Path = Path("./media-cache")
    play_dirs: list[Path] = Field(default_factory=list)
    play_url_prefixes: list[str] = Field(default_factory=list)
    # Speech recognition in the media engine (gather input speech, transcribe): an engine of legato/speech/registry.py.
    speech_engine: str = "pocketsphinx"
    # Sandbox delays (seconds, before time_scale): how long the simulated PSTN takes.
    sandbox_ring_after: float = 1.0
    sandbox_answer_after: float = 2.0
    sandbox_far_hangup_after: float = 5.0
    sandbox_amd_after: float = 1.5
    sandbox_play_seconds: float = 2.0  # a prompt whose length cannot be read (URL, say: per 10 characters)
    sandbox_key_interval: float = 0.3  # the simulated caller presses a key this often during a gather
    # Event delivery (see README, "Events"). Backoff waits run `time_scale` times faster, like leg timers;
    # the per-attempt timeout is always real time.
    events_attempt_timeout: float = Field(5.0, gt=0, le=60)
    events_backoff_base: float = Field(1.0, gt=0, description="first retry wait, seconds; doubles per attempt")
    events_backoff_max: float = Field(3600.0, gt=0, description="longest wait between two attempts, seconds")
    events_give_up_after: float = Field(86_400.0, gt=0, description="stop retrying an event this old, seconds")
    events_max_connections_per_host: int = Field(64, ge=1, le=10_000)
    # Event endpoints resolving into these networks are accepted although private (CIDRs, e.g. ["10.0.0.0/8"]);
    # ["0.0.0.0/0", "::/0"] accepts everything. Loopback is accepted anyway when `host` is a loopback address.
    allow_private_endpoints: list[str] = Field(default_factory=list)
    # The API's edge: the largest request body accepted (413 beyond), and how long a connection may take to
    # send a request's headers (from connecting, or from the previous response) before it is closed.
    max_body_bytes: int = Field(1_048_576, ge=1024)
    header_timeout: float = Field(10.0, gt=0, le=3600)
    # Graceful drain on SIGTERM: live legs may run this long (seconds, real time) before they are ended with
    # hangup_cause platform_shutdown; then undelivered events get at most drain_flush_timeout to go out.
    drain_timeout: float = Field(30.0, ge=0)
    drain_flush_timeout: float = Field(10.0, ge=0)
    public_base_url: str | None = None
    # This node's name on the database (`--node`): it owns the legs it starts, holding a lease renewed every
    # `lease_renew_interval` s that lapses `lease_ttl` s after the last renewal. A restart with the same name
    # reconciles its own legs; another name leaves them alone while their owner's lease lives.
    node_name: str = Field("default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    lease_renew_interval: float = Field(2.0, gt=0, le=60)
    lease_ttl: float = Field(10.0, gt=0, le=600)
    # The cluster (see README, "Running a cluster"): the NATS bus nodes send commands over (`--bus`; none: a
    # single node), how long a command routed to a leg's owner waits for its answer (then 503 + Retry-After),
    # and how many node processes `serve --workers N` starts behind one API port.
    bus_url: str | None = None
    route_timeout: float = Field(5.0, gt=0, le=60)
    workers: int = Field(1, ge=1, le=256)
    reuse_port: bool = False  # bind the API port with SO_REUSEPORT (set by `--workers` for its children)
    # A request that changes a leg waits this long (s) for the database while it is unavailable, then gets 503.
    write_wait: float = Field(5.0, gt=0, le=60)
    config_file: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, url: str) -> str:
        scheme = url.partition("://")[0]
        if url and scheme not in DATABASE_SCHEMES:
            raise ValueError(f"must start with sqlite+aiosqlite:/// or postgresql+asyncpg://, not {scheme}://"
                             if "://" in url else "must be a URL: sqlite+aiosqlite:///PATH or "
                             "postgresql+asyncpg://USER@HOST/DB")
        return url

    @field_validator("allow_private_endpoints")
    @classmethod
    def _networks(cls, networks: list[str]) -> list[str]:
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (a CIDR such as 10.0.0.0/8)") from None
        return networks

    @field_validator("config_file")
    @classmethod
    def _readable_toml(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} is not valid TOML: {exc}") from None
        return path

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{(self.data_dir / 'legato.db').expanduser().resolve()}"
        if self.lease_renew_interval >= self.lease_ttl:
            raise ValueError("lease_renew_interval must be shorter than lease_ttl")
        if self.speech_engine not in ENGINES:
            raise ValueError(f"speech_engine must be one of {', '.join(sorted(ENGINES))}")
        if self.workers > 1 and (self.bus_url is None or not self.database_url.startswith("postgresql")):
            raise ValueError("workers > 1 needs a bus (--bus nats://...) and a PostgreSQL database_url")
        if self.workers > 1 and self.network == "sip":
            raise ValueError("workers > 1 runs the sandbox network; SIP nodes each need their own SIP and RTP "
                             "ports: run one `legato serve --node NAME --config FILE` per SIP node")
        return self

    @property
    def dc_map(self) -> dict[str, list[str]]:
        """The data centres served, in preference order on ties."""
        return self.data_centres or {self.dc_code: [self.nso_code]}

    def trunk_cps(self, account_sid: str, trunk: str) -> int | None:
        """The operator's cps limit for this account on this trunk, if any."""
        return self.account_trunk_cps.get(f"{account_sid}:{trunk}")

    @property
    def base_url(self) -> str:
        """Where applications reach this server (public_base_url, else host and port)."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

