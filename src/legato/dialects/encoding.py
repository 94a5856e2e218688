"""JSON text for rendered documents, writing Decimal money as exact JSON numbers (never via float)."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any


def dumps(document: Any) -> str:
    """Serialise a rendered document; `Decimal` values become number literals with their exact digits."""
    nonce = secrets.token_hex(8)
    literals: list[str] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            literals.append(format(value, "f"))
            return f"{nonce}:{len(literals) - 1}"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(document), separators=(",", ":"), ensure_ascii=False)
    for index, literal in enumerate(literals):
        text = text.replace(f'"{nonce}:{index}"', literal, 1)
    return text
