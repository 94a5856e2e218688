"""Where the key that encrypts webhook secrets lives, and the start-up check that it is this database's key.

The key is found, in order: the value of LEGATO_SECRET_KEY; the file LEGATO_SECRET_KEY_FILE; for SQLite the
file beside the database (`legato.db` -> `legato.key`). PostgreSQL needs one of the first two, so that every
node shares the key. The database keeps the key's fingerprint: a process holding another key, or none while
the database already has secrets, does not start (KeyProblem says what to do); no second key is ever made.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from legato.store.database import sqlite_path
from legato.store.secrets import KeyProblem, SecretBox
from legato.store.tables import accounts, secret_keys

PURPOSE = "webhook_secrets"
_HOW = "set LEGATO_SECRET_KEY_FILE to the key file's path, or LEGATO_SECRET_KEY to its contents"


@dataclass(frozen=True, slots=True)
class KeySource:
    """The configured key: a value, a file, or neither (an in-memory database gets a throw-away key)."""

    value: str | None = None
    path: Path | None = None

    @property
    def where(self) -> str:
        if self.value is not None:
            return "LEGATO_SECRET_KEY"
        return str(self.path) if self.path is not None else "memory (in-memory database)"


def key_source(database_url: str, value: str | None = None, path: Path | None = None, *,
               cluster: bool = False) -> KeySource:
    """Where this database's key comes from (see the module docstring); KeyProblem when it is not configured.

    A cluster node (`cluster`) needs the cluster's key given as a value or a path: a key kept or generated
    beside one node's database would let that node alone sign and read the accounts' webhook secrets."""
    if value:
        return KeySource(value=value)
    if path is not None:
        return KeySource(path=path.expanduser().resolve())
    if cluster:
        raise KeyProblem("A cluster node (--bus) needs the cluster's secret key, the same on every node, never "
                         "one generated per node: " + _HOW + ". Make a key once with: python3 -c "
                         "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'")
    database = sqlite_path(database_url)
    if database is not None:
        return KeySource(path=database.with_suffix(".key"))
    if make_url(database_url).get_backend_name() == "sqlite":
        return KeySource()
    raise KeyProblem("No secret key configured for this PostgreSQL database: " + _HOW +
                     " (the same on every node). Make a key with: python3 -c "
                     "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'")


def fingerprint_of(key: bytes) -> str:
    """A short public name of the key (an HMAC under the key: reveals nothing about it)."""
    return hmac.new(key, b"legato secret key fingerprint", hashlib.sha256).hexdigest()[:16]


async def unlock(engine: AsyncEngine, box: SecretBox, source: KeySource) -> str:
    """Load the database's key into `box` (creating it only for a database that has no secrets yet).

    Returns the key's fingerprint; raises KeyProblem naming the place and the fix when the key is
    missing, unreadable or not the one the database's secrets were encrypted with."""
    key = _read(source)
    async with engine.connect() as conn:
        known = (await conn.execute(select(secret_keys.c.fingerprint)
                                    .where(secret_keys.c.purpose == PURPOSE))).scalar()
        sealed = (await conn.execute(select(accounts.c.webhook_secret_enc).limit(1))).scalar()
    if key is None:
        if known is not None or sealed is not None:
            raise KeyProblem(
                f"The secret key file {source.where} is missing, but this database already holds webhook "
                f"secrets encrypted with key {known or '(made before fingerprints were kept)'}; Legato will not "
                f"make a second key. Put the original key file back at {source.where}, or {_HOW}.")
        key = _create(source)
    fingerprint = fingerprint_of(key)
    if known is None and sealed is not None and not _decrypts(key, sealed):
        known = "(the one the stored secrets need)"
    if known is None:
        known = await _remember(engine, fingerprint)
    if known != fingerprint:
        raise KeyProblem(
            f"The secret key at {source.where} (fingerprint {fingerprint}) is not the key this database's "
            f"webhook secrets were encrypted with (fingerprint {known}). Use the original key: {_HOW}.")
    box.load(key)
    return fingerprint


def _read(source: KeySource) -> bytes | None:
    """The key's bytes, or None when its file does not exist (yet)."""
    if source.value is not None:
        raw = source.value.encode()
    elif source.path is None:
        return None
    else:
        try:
            raw = source.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyProblem(f"Cannot read the secret key file {source.path}: {exc.strerror}.") from None
    key = raw.strip()
    try:
        Fernet(key)
    except ValueError:
        raise KeyProblem(f"The secret key at {source.where} is not a key Legato made (a Fernet key: 44 "
                         f"characters of URL-safe base64). Restore the original key, or {_HOW}.") from None
    return key


def _create(source: KeySource) -> bytes:
    """A new key, written 0600 to the source's file (kept in memory when there is none)."""
    key = Fernet.generate_key()
    if source.path is None:
        return key
    try:
        source.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(source.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now: use that one
        again = _read(source)
        assert again is not None
        return again
    except OSError as exc:
        raise KeyProblem(f"Cannot create the secret key file {source.path}: {exc.strerror}.") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _decrypts(key: bytes, sealed: str) -> bool:
    try:
        Fernet(key).decrypt(sealed.encode())
    except InvalidToken:
        return False
    return True


async def _remember(engine: AsyncEngine, fingerprint: str) -> str:
    """Store the key's fingerprint; returns the stored one (another process's, if it was first)."""
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(secret_keys).values(purpose=PURPOSE, fingerprint=fingerprint,
                                                          created_at=datetime.now(UTC)))
    except IntegrityError:
        pass
    async with engine.connect() as conn:
        stored = (await conn.execute(select(secret_keys.c.fingerprint)
                                     .where(secret_keys.c.purpose == PURPOSE))).scalar()
    return str(stored)
