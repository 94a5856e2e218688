"""Secrets at rest: webhook secrets encrypted with a key kept outside the database; tokens hashed."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy API token (tokens are random, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Constant-time check of a token against its stored hash."""
    return hmac.compare_digest(hash_token(token), token_hash)


class SecretBox:
    """Encrypts and decrypts secrets with a Fernet key read from (or first written to) `key_file`."""

    def __init__(self, key_file: Path) -> None:
        if key_file.exists():
            key = key_file.read_bytes().strip()
        else:
            key = Fernet.generate_key()
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key + b"\n")
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()
