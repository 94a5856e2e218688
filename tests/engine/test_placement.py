"""Data-centre placement: requested codes, reference legs, least loaded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from legato.domain.errors import ValidationFailed
from legato.domain.leg import Direction, Leg
from legato.engine.placement import Placement, parse_data_centre


def leg(dc: str, nso: str | None) -> Leg:
    return Leg(leg_sid=f"L{dc}{nso}", account_sid="A", call_sid="C", direction=Direction.OUTBOUND,
               contact_uri="+14155552671", contact_e164="+14155552671", exophone="0803", network_type="pstn",
               leg_event_endpoint=None, date_created=datetime(2026, 1, 1, tzinfo=UTC), dc_code=dc, nso_code=nso)


@pytest.fixture
def placement() -> Placement:
    return Placement({"101": ["nso-a", "nso-b"], "102": ["nso-c"]})


def test_parse_data_centre() -> None:
    assert parse_data_centre("101=nso-a, nso-b") == ("101", ["nso-a", "nso-b"])
    assert parse_data_centre("102") == ("102", [])
    with pytest.raises(ValueError, match="no code"):
        parse_data_centre("=nso")


def test_requested_codes(placement: Placement) -> None:
    assert placement.place(requested_dc="102") == ("102", "nso-c")
    assert placement.place(requested_nso="nso-b") == ("101", "nso-b")
    for kwargs, field in [({"requested_dc": "999"}, "requested_dc_code"),
                          ({"requested_nso": "nso-x"}, "requested_nso_code"),
                          ({"requested_dc": "102", "requested_nso": "nso-a"}, "requested_nso_code")]:
        with pytest.raises(ValidationFailed) as raised:
            placement.place(**kwargs)  # type: ignore[arg-type]
        assert raised.value.field == field


def test_least_loaded_then_reference(placement: Placement) -> None:
    first = leg(*placement.place())
    assert (first.dc_code, first.nso_code) == ("101", "nso-a")
    placement.occupy(first)
    second = leg(*placement.place())
    assert second.dc_code == "102"
    placement.occupy(second)
    placement.occupy(leg("102", "nso-c"))
    assert placement.place() == ("101", "nso-b")  # 101 has 1 live leg, 102 has 2; nso-b is the idler nso
    assert placement.place(reference=second) == ("102", "nso-c")  # co-located though busier
    with pytest.raises(ValidationFailed, match="co-located"):
        placement.place(reference=second, requested_dc="101")
    placement.vacate(second)
    assert placement.live["102"] == 1
