from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from legato.domain.errors import ValidationFailed
from legato.domain.leg import LegState, TerminalStatus
from legato.domain.prices import Increment, Price, Rate, RateTable, parse_rates, record_price, stored_price
from tests.dialects.support import make_leg

CSV = """prefix,price_per_minute,currency,billing_increment,description
# India, then Bangalore at a better rate
91,0.0120,INR,60/60,India
+9180,0.0100,inr,1/1,Bangalore
1,0.0085,USD,30/6,
"""


def test_parse_and_longest_prefix_match() -> None:
    table = parse_rates(CSV)
    assert len(table) == 3
    assert table.match("+918030752400").prefix == "9180"
    assert table.match("+919163816621").prefix == "91"
    assert table.match("+14155550123").currency == "USD"
    assert table.match("+442071234567") is None
    bangalore = table.match("918012345678")
    assert bangalore == Rate("9180", Decimal("0.0100"), "INR", Increment(1, 1), "Bangalore")


@pytest.mark.parametrize(
    ("increment", "duration", "billed"),
    [
        ("60/60", 0, 0),
        ("60/60", 1, 60),
        ("60/60", 60, 60),
        ("60/60", 61, 120),
        ("1/1", 61, 61),
        ("30/6", 1, 30),
        ("30/6", 30, 30),
        ("30/6", 31, 36),
        ("30/6", 37, 42),
    ],
)
def test_billing_increments(increment: str, duration: int, billed: int) -> None:
    assert Increment.parse(increment).billed_seconds(duration) == billed


def test_price_is_exact_decimal() -> None:
    rate = Rate("91", Decimal("0.0120"), "INR", Increment(1, 1))
    assert rate.price(61) == Price(Decimal("0.01220"), "INR")  # 0.012 * 61 / 60 = 0.0122
    rate = Rate("1", Decimal("0.01"), "USD", Increment(1, 1))
    assert rate.price(7).amount == Decimal("0.00117")  # 0.0011666... rounded half-up at 5 places
    assert Rate("1", Decimal("0.0085"), "USD", Increment(30, 6)).price(31).amount == Decimal("0.00510")


@settings(deadline=None)
@given(
    st.decimals(min_value=0, max_value=100, places=4),
    st.integers(0, 20_000),
    st.sampled_from(["60/60", "1/1", "30/6", "6/6"]),
)
def test_price_matches_exact_fraction(per_minute: Decimal, duration: int, increment: str) -> None:
    inc = Increment.parse(increment)
    amount = Rate("1", per_minute, "USD", inc).price(duration).amount
    exact = per_minute * inc.billed_seconds(duration) / 60
    assert isinstance(amount, Decimal)
    assert abs(amount - exact) <= Decimal("0.000005")
    assert amount.as_tuple().exponent == -5


def test_leg_price_uses_duration_and_contact() -> None:
    table = parse_rates(CSV)
    leg = make_leg((LegState.TERMINAL, TerminalStatus.COMPLETED), talk_ms=61_500)  # 62 s, +91 91...
    price = table.price_leg(leg)
    assert price == Price(Decimal("0.02400"), "INR")  # 2 minutes at 0.012
    record_price(leg, price)
    assert leg.extra == {"price": "0.02400", "price_unit": "INR"}
    assert stored_price(leg) == price


def test_unpriceable_legs() -> None:
    table = parse_rates(CSV)
    assert table.price_leg(make_leg((LegState.CONNECTED, None))) is None
    sip = make_leg(
        (LegState.TERMINAL, TerminalStatus.COMPLETED), contact="sip:a@b.example", contact_e164=None
    )
    assert table.price_leg(sip) is None
    unanswered = make_leg((LegState.TERMINAL, TerminalStatus.NO_ANSWER))
    assert table.price_leg(unanswered) == Price(Decimal("0.00000"), "INR")
    record_price(unanswered, None)
    assert stored_price(unanswered) is None


@pytest.mark.parametrize(
    ("text", "row", "column"),
    [
        ("prefix,price_per_minute,currency,billing_increment\n91,abc,INR,60/60\n", 2, "price_per_minute"),
        ("prefix,price_per_minute,currency,billing_increment\n91,-1,INR,60/60\n", 2, "price_per_minute"),
        ("prefix,price_per_minute,currency,billing_increment\n91,NaN,INR,60/60\n", 2, "price_per_minute"),
        ("prefix,price_per_minute,currency,billing_increment\n9x1,0.1,INR,60/60\n", 2, "prefix"),
        ("prefix,price_per_minute,currency,billing_increment\n91,0.1,RUPEES,60/60\n", 2, "currency"),
        ("prefix,price_per_minute,currency,billing_increment\n91,0.1,INR,60\n", 2, "billing_increment"),
        ("prefix,price_per_minute,currency,billing_increment\n91,0.1,INR,0/60\n", 2, "billing_increment"),
        (
            "prefix,price_per_minute,currency,billing_increment\n\n91,0.1,INR,60/60\n+91,0.2,INR,1/1\n",
            4,
            "prefix",
        ),
    ],
)
def test_bad_rows_name_row_and_column(text: str, row: int, column: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_rates(text, "rates.csv")
    assert caught.value.field == column
    assert f"rates.csv row {row}, column {column}" in caught.value.message


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "rates"),
        ("prefix,price_per_minute,currency,billing_increment\n", "rates"),
        ("prefix,price,currency,billing_increment\n91,1,INR,60/60\n", "price"),
        ("prefix,currency,billing_increment\n91,INR,60/60\n", "price_per_minute"),
        ("prefix,price_per_minute,currency,billing_increment\n91,0.1,INR\n", "row"),
    ],
)
def test_bad_tables(text: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_rates(text)
    assert caught.value.field == field


def test_duplicate_rates_in_code_are_refused() -> None:
    rate = Rate("91", Decimal(1), "INR", Increment(60, 60))
    with pytest.raises(ValidationFailed):
        RateTable([rate, rate])
