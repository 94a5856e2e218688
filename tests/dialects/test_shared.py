"""The small shared dialect modules: parties, timestamps, encoding, conditions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from legato.dialects.conditions import ALL_CONDITIONS, condition, preimage
from legato.dialects.encoding import dumps
from legato.dialects.parties import parties, party
from legato.dialects.timestamps import rfc3339
from legato.domain.leg import Direction, LegState, TerminalStatus
from tests.dialects.support import make_leg


def test_party_forms() -> None:
    assert party("09163816621").e164 == "+919163816621"
    assert party("sip:+14155550123@10.0.0.5").e164 == "+14155550123"
    sip = party("sip:alice@pbx.example.com")
    assert (sip.e164, sip.sip_uri, sip.canonical) == (
        None,
        "sip:alice@pbx.example.com",
        "sip:alice@pbx.example.com",
    )
    assert party("not a number").canonical == "not a number"


def test_parties_follow_direction() -> None:
    out = parties(make_leg(direction=Direction.OUTBOUND))
    inbound = parties(make_leg(direction=Direction.INBOUND))
    assert [p.e164 for p in out] == ["+918030752400", "+919163816621"]
    assert [p.e164 for p in inbound] == ["+919163816621", "+918030752400"]


def test_rfc3339_precisions() -> None:
    moment = datetime(2016, 3, 10, 18, 7, 52, 534567, tzinfo=UTC)
    assert rfc3339(moment) == "2016-03-10T18:07:52.534Z"
    assert rfc3339(moment, 0) == "2016-03-10T18:07:52Z"
    assert rfc3339(moment, 6) == "2016-03-10T18:07:52.534567Z"
    assert rfc3339(None) is None


def test_dumps_writes_exact_decimals() -> None:
    text = dumps({"a": Decimal("0.10000"), "b": [Decimal("-0.01350"), "0.1"], "c": "x"})
    assert text == '{"a":0.10000,"b":[-0.01350,"0.1"],"c":"x"}'
    assert json.loads(text, parse_float=Decimal)["a"] == Decimal("0.10000")


def test_conditions() -> None:
    assert len(ALL_CONDITIONS) == len(LegState) - 1 + len(TerminalStatus)
    leg = make_leg((LegState.TERMINAL, TerminalStatus.BUSY))
    assert condition(leg) == (LegState.TERMINAL, TerminalStatus.BUSY)
    leg.terminal_status = None
    assert condition(leg) == (LegState.TERMINAL, TerminalStatus.FAILED)
    assert preimage({(LegState.RINGING, None): "r", (LegState.CREATED, None): "r"}, "r") == {
        (LegState.RINGING, None),
        (LegState.CREATED, None),
    }


def test_docs_carry_the_module_tables() -> None:
    from pathlib import Path

    from legato.dialects import bandwidth, messagebird, ringcentral, telefonie
    from legato.domain import prices

    docs = (Path(__file__).resolve().parents[2] / "docs" / "dialects.md").read_text()
    for module in (messagebird, telefonie, ringcentral, bandwidth, prices):
        assert (module.__doc__ or "").strip() in docs, f"docs/dialects.md is stale for {module.__name__}"
