"""Legato's own shape: every timestamp is RFC 3339 with `Z` and nine fractional digits (issue 10, item 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from legato.dialects.conditions import ALL_CONDITIONS
from legato.dialects.exotel import event_data, leg_resource
from tests.dialects.support import T0, make_leg

TIME_FIELDS = ("created_at", "date_created", "date_updated", "start_time", "answer_time", "end_time")


def assert_rfc3339(document: dict[str, Any]) -> int:
    """Every time field present is null or `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` that fromisoformat reads back."""
    seen = 0
    for name in TIME_FIELDS:
        value = document.get(name)
        if value is None:
            continue
        assert value.endswith("Z") and "T" in value and len(value.split(".")[1]) == 10, (name, value)
        assert datetime.fromisoformat(value).utcoffset().total_seconds() == 0
        seen += 1
    return seen


def test_created_at_is_rfc3339_like_date_created() -> None:
    resource = leg_resource(make_leg())
    assert resource["created_at"] == resource["date_created"] == "2024-05-31T08:02:32.608752000Z"
    assert datetime.fromisoformat(resource["created_at"]) == T0


def test_every_timestamp_in_every_condition_parses() -> None:
    for condition in ALL_CONDITIONS:
        leg = make_leg(condition)
        assert assert_rfc3339(leg_resource(leg)) >= 3
        assert assert_rfc3339(event_data(leg)) >= 2
