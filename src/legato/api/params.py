"""Query parameter types shared by the routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _utc(value: datetime) -> datetime:
    """The instant in UTC (a time without an offset is read as UTC); instants UTC cannot hold are refused."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be an instant between years 1 and 9999 in UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
