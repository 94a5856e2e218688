"""Opening the database: the async engine, SQLite pragmas, and Alembic migrations to head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_blocking_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

_MIGRATIONS = Path(__file__).parent / "migrations"
RETRY_AFTER = 2  # seconds a client is asked to wait (Retry-After) while the database is unavailable
CONNECT_TIMEOUT = 5.0  # seconds to open a PostgreSQL connection before the attempt counts as an outage
# SQLSTATE classes that say "not now" rather than "never": connection exception, transaction rollback
# (serialization, deadlock), insufficient resources (disk full), operator intervention, system error.
_TRANSIENT_SQLSTATE = ("08", "40", "53", "57", "58")
# SQLite primary result codes that say the same: busy, locked, out of memory, read-only, I/O error, full,
# cannot open, lock protocol.
_TRANSIENT_SQLITE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached or cannot write just now (worth retrying):
    connection lost or refused, disk full, database locked or read-only; False for a bad statement."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, OSError | TimeoutError):
            return True
        if not isinstance(current, DBAPIError):  # a driver's own error (writes on the driver, store/direct.py)
            code = getattr(current, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in _TRANSIENT_SQLITE
            if type(current).__module__.startswith("asyncpg"):  # its InterfaceError: the connection is gone
                state = str(getattr(current, "sqlstate", None) or "08")
                return state[:2] in _TRANSIENT_SQLSTATE
        if isinstance(current, DBAPIError):
            code = getattr(current.orig, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in _TRANSIENT_SQLITE
            if current.connection_invalidated or isinstance(current, OperationalError | InterfaceError):
                return True
            state = str(getattr(current.orig, "sqlstate", None) or getattr(current.orig, "pgcode", None) or "")
            if state[:2] in _TRANSIENT_SQLSTATE:
                return True
        current = current.__cause__
        seen += 1
    return False


def sqlite_path(database_url: str) -> Path | None:
    """The absolute path of a SQLite database file; None for other databases and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" \
            or url.query.get("mode") == "memory":
        return None
    return Path(url.database).expanduser().resolve()


def display_url(database_url: str) -> str:
    """The database URL for logs and messages, without its password."""
    return make_url(database_url).render_as_string(hide_password=True)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL (durable against process crashes), a busy timeout, and its folder."""
    if url.startswith("sqlite"):
        database = sqlite_path(url)
        if database is not None:
            database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # legs name people: owner only
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                               connect_args={"timeout": CONNECT_TIMEOUT})


def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def blocking_sqlite_engine(engine: AsyncEngine) -> Engine | None:
    """For a SQLite file behind `engine`: a plain (blocking) engine on the same file and pragmas, for work
    that runs whole in one worker thread (store/writer.py); None for other databases and in-memory SQLite.

    aiosqlite hands every cursor call to its thread and back (about three round trips a statement); a
    transaction run whole in one thread makes one."""
    if engine.dialect.name != "sqlite" or sqlite_path(engine.url.render_as_string(hide_password=False)) is None:
        return None
    blocking = create_blocking_engine(engine.url.set(drivername="sqlite+pysqlite"), poolclass=StaticPool,
                                      connect_args={"timeout": 30, "check_same_thread": False})  # one thread uses it
    event.listen(blocking, "connect", _pragmas)
    return blocking


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def ping(engine: AsyncEngine) -> str | None:
    """None when the database answers a query, else why not."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return f"the database does not answer: {exc}"[:200]
    return None
