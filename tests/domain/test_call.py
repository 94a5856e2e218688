from __future__ import annotations

import pytest

from legato.domain.call import Call
from legato.domain.errors import ValidationFailed
from legato.domain.leg import LegState, TerminalStatus
from tests.dialects.support import T0, make_leg


def test_call_orders_legs_and_tracks_life() -> None:
    first = make_leg((LegState.TERMINAL, TerminalStatus.COMPLETED))
    second = make_leg((LegState.CONNECTED, None))
    second.leg_sid, second.date_created = "2QYATxQ9t4UKcUwcqJClSa9OEZ500000", T0.replace(minute=3)
    call = Call.of([second, first])
    assert call.master is first and call.legs == (first, second)
    assert call.is_live and call.end_time is None
    assert call.date_updated == max(first.date_updated, second.date_updated)
    done = Call.of([first])
    assert not done.is_live and done.end_time == first.end_time


def test_call_needs_legs_of_one_call() -> None:
    with pytest.raises(ValidationFailed):
        Call.of([])
    other = make_leg()
    other.call_sid = "another"
    with pytest.raises(ValidationFailed):
        Call.of([make_leg(), other])
