"""Secrets at rest: webhook secrets encrypted with a key kept outside the database; tokens hashed."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy API token (tokens are random, so no slow KDF is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Constant-time check of a token against its stored hash."""
    return hmac.compare_digest(hash_token(token), token_hash)


class KeyProblem(Exception):
    """The secret key is missing, wrong or not configured: an operator must act before Legato runs."""


class SecretBox:
    """Encrypts and decrypts secrets with a Fernet key; locked until `load` is given the key."""

    def __init__(self, key: bytes | None = None) -> None:
        self._fernet: Fernet | None = None
        self._key = b""
        if key is not None:
            self.load(key)

    def load(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """A key for `purpose` (e.g. signing console sessions) derived from the secret key: the same on
        every node, changed when the secret key is."""
        self.fernet  # noqa: B018  raises KeyProblem while locked
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()

    @property
    def fernet(self) -> Fernet:
        if self._fernet is None:
            raise KeyProblem("the secret key was not loaded (see store/keys.py: unlock)")
        return self._fernet

    def seal(self, secret: str) -> str:
        return self.fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self.fernet.decrypt(sealed.encode()).decode()
