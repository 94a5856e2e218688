"""Text a database can store: PostgreSQL refuses NUL in text and JSON, and no encoder takes a lone surrogate."""

from __future__ import annotations

import re
from typing import Any

from legato.domain.errors import ValidationFailed

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
RULE = "must not contain NUL (\\u0000) or an unpaired surrogate"


def is_storable(value: str) -> bool:
    """True when `value` has no character a database refuses."""
    return _UNSTORABLE.search(value) is None


def check_storable(value: Any, field: str | None = None) -> None:
    """400 naming the field when any string or key in `value` is unstorable. Fields inside objects and
    arrays are named by path (`amd_params.x`, `leg_sids.0`); a top-level object's keys name themselves."""
    if isinstance(value, str):
        if not is_storable(value):
            raise ValidationFailed(f"{field or 'body'} {RULE}", field=field or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(str(key), field)
            check_storable(item, _join(field, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable(item, _join(field, index))


def _join(field: str | None, key: object) -> str:
    return f"{field}.{key}" if field else str(key)
