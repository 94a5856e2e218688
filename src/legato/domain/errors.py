"""Typed domain errors; the API maps each to one status code in exactly one place."""

from __future__ import annotations


class LegatoError(Exception):
    """Base of every error a client can cause."""

    code: str = "error"

    def __init__(self, message: str, *, field: str | None = None, description: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.description = description or message


class ValidationFailed(LegatoError):
    """Input broke a rule (400). `field` names the field, `message` the rule."""

    code = "invalid_parameter"


class NotFound(LegatoError):
    """The resource does not exist for this account (404), whether or not it exists elsewhere."""

    code = "not_found"


class Unauthorized(LegatoError):
    """Credentials are missing or wrong (401); `challenge` is the WWW-Authenticate the answer carries."""

    code = "unauthorized"

    def __init__(self, message: str, *, field: str | None = None, challenge: str = 'Basic realm="legato"') -> None:
        super().__init__(message, field=field)
        self.challenge = challenge


class Forbidden(LegatoError):
    """The credentials are valid but may not do this (403), e.g. a disabled account."""

    code = "forbidden"


class Conflict(LegatoError):
    """The resource's state does not allow the request (409)."""

    code = "conflict"


class LimitExceeded(LegatoError):
    """A limit was hit (429); `retry_after` seconds tells when to try again."""

    code = "limit_exceeded"

    def __init__(self, message: str, *, retry_after: int = 1, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class NotRepresentable(Conflict):
    """The resource exists but cannot be shown in the requested provider shape (409), e.g. a SIP-only
    party where the provider's schema demands an E.164 number."""

    code = "not_representable"


class Unavailable(LegatoError):
    """A part of Legato the request needs is down (503), e.g. the media engine or the database;
    `retry_after` seconds (when given) tells when to try again."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class Draining(Unavailable):
    """The server is draining before it stops (503): it takes no new legs; `retry_after` seconds."""

    code = "draining"

    def __init__(self, message: str, *, retry_after: int = 30) -> None:
        super().__init__(message, retry_after=retry_after)
