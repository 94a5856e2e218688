"""RFC 3339 timestamps at the precision each provider writes (UTC, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime | None, digits: int = 3) -> str | None:
    """`2016-03-10T18:07:52.534Z` (digits=3), `...52Z` (digits=0) or up to 6 fractional digits."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if digits > 0:
        text += "." + f"{moment.microsecond:06d}"[:digits]
    return text + "Z"
