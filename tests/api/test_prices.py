"""Prices: the operator imports a rate table; legs that end are priced and shown in Telefonie's shape."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.legato_server import Api


def test_rate_import_then_answered_leg_is_priced(make_server, tmp_path) -> None:
    server = make_server()
    rates = tmp_path / "rates.csv"
    rates.write_text("prefix,price_per_minute,currency,billing_increment\n91,0.60,INR,60/60\n9191,1.20,INR,1/1\n")
    server.cli("rates", "import", str(rates))
    server.start()
    api = Api(server, server.create_account("--exophone", "08030752400"))
    leg_sid = api.create_leg("09163810007").json()["response"]["data"]["leg_sid"]  # answered, 5 s, far end ends
    leg = api.wait_terminal(leg_sid)
    assert leg["duration"] == 5
    telefonie = api.http.get(f"{api.base}/legs/{leg_sid}", params={"format": "telefonie"}).json()
    # 919163810007 matches prefix 9191 (longest): 1.20/min, per second: 5 s -> 0.10000
    assert Decimal(telefonie["price"]) == Decimal("-0.10000")
    assert telefonie["price_unit"] == "INR"
    busy = api.wait_terminal(api.create_leg("08030750001").json()["response"]["data"]["leg_sid"])
    unanswered = api.http.get(f"{api.base}/legs/{busy['leg_sid']}", params={"format": "telefonie"}).json()
    assert Decimal(unanswered["price"]) == 0


@pytest.mark.parametrize(("csv", "words"), [
    ("prefix,price_per_minute,currency\n91,1,INR\n", "billing_increment"),
    ("prefix,price_per_minute,currency,billing_increment\n91,-1,INR,60/60\n", "row 2"),
    ("prefix,price_per_minute,currency,billing_increment\n91,0.1,rupees,60/60\n", "currency"),
])
def test_bad_rate_tables_are_refused_with_row_and_column(make_server, tmp_path, csv: str, words: str) -> None:
    server = make_server()
    path = tmp_path / "bad.csv"
    path.write_text(csv)
    with pytest.raises(RuntimeError) as info:
        server.cli("rates", "import", str(path))
    assert words in str(info.value)
