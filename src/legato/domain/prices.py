"""Operator rate tables and leg prices. Pure: exact Decimal arithmetic, never float.

A rate table is a CSV the operator imports (`legato rates import FILE`)::

    prefix,price_per_minute,currency,billing_increment[,description]
    91,0.0120,INR,60/60,India
    9180,0.0100,INR,1/1,Bangalore
    1,0.0085,USD,30/6

* `prefix`: E.164 digits (a leading `+` is allowed); the longest prefix of the rated number wins.
* `price_per_minute`: a non-negative decimal.
* `currency`: ISO 4217 alphabetic code (three letters).
* `billing_increment`: `first/step` seconds. `60/60` bills whole minutes, `1/1` per second, `30/6` a
  30-second minimum then 6-second steps. An unanswered leg (0 s) costs nothing.

A leg's price = price_per_minute x billed_seconds / 60, rounded half-up to `QUANTUM` (5 places, as
Telefonie shows prices). The rated number is the remote party's E.164 (`Leg.contact_e164`); a leg
without one (SIP URI with no number) is not priced. The price is stored on the leg as
`extra["price"]` (positive decimal string: the cost) and `extra["price_unit"]`; dialects read it back
with `stored_price` and render it in their own sign and shape.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from legato.domain.errors import ValidationFailed
from legato.domain.leg import Leg

COLUMNS = ("prefix", "price_per_minute", "currency", "billing_increment")
OPTIONAL_COLUMNS = ("description",)
QUANTUM = Decimal("0.00001")
_PREFIX = re.compile(r"^\+?([0-9]{1,15})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_INCREMENT = re.compile(r"^([0-9]{1,5})\s*/\s*([0-9]{1,5})$")
_SIXTY = Decimal(60)


@dataclass(frozen=True, slots=True)
class Increment:
    """Billing increments: the first `first` seconds are billed as a block, then blocks of `step`."""

    first: int
    step: int

    @classmethod
    def parse(cls, text: str) -> Increment:
        match = _INCREMENT.match(text.strip())
        if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
            raise ValueError("must be two positive whole numbers of seconds like 60/60, 1/1 or 30/6")
        return cls(int(match.group(1)), int(match.group(2)))

    def billed_seconds(self, duration: int) -> int:
        """Seconds billed for `duration` seconds of talk (0 stays 0)."""
        if duration <= 0:
            return 0
        if duration <= self.first:
            return self.first
        blocks = -(-(duration - self.first) // self.step)  # ceiling division
        return self.first + blocks * self.step

    def __str__(self) -> str:
        return f"{self.first}/{self.step}"


@dataclass(frozen=True, slots=True)
class Price:
    """What a leg cost: a non-negative amount in an ISO 4217 currency."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Rate:
    """One row of the rate table."""

    prefix: str
    price_per_minute: Decimal
    currency: str
    increment: Increment
    description: str | None = None

    def price(self, duration: int) -> Price:
        """The price of `duration` answered seconds."""
        billed = self.increment.billed_seconds(duration)
        amount = (self.price_per_minute * billed / _SIXTY).quantize(QUANTUM, rounding=ROUND_HALF_UP)
        return Price(amount, self.currency)


class RateTable:
    """Rates by destination prefix, matched longest-prefix-first on E.164 digits."""

    __slots__ = ("_by_prefix", "_longest")

    def __init__(self, rates: Iterable[Rate]) -> None:
        self._by_prefix: dict[str, Rate] = {}
        for rate in rates:
            if rate.prefix in self._by_prefix:
                raise ValidationFailed(f"prefix {rate.prefix} appears twice", field="prefix")
            self._by_prefix[rate.prefix] = rate
        self._longest = max((len(p) for p in self._by_prefix), default=0)

    @property
    def rates(self) -> list[Rate]:
        return sorted(self._by_prefix.values(), key=lambda rate: rate.prefix)

    def __len__(self) -> int:
        return len(self._by_prefix)

    def match(self, number: str) -> Rate | None:
        """The rate whose prefix is the longest prefix of the number's digits, or None."""
        digits = "".join(ch for ch in number if ch.isdigit())
        for length in range(min(len(digits), self._longest), 0, -1):
            rate = self._by_prefix.get(digits[:length])
            if rate is not None:
                return rate
        return None

    def price_leg(self, leg: Leg) -> Price | None:
        """The price of an ended leg, or None when it is live, has no E.164 number, or no rate matches."""
        if not leg.is_terminal or leg.contact_e164 is None:
            return None
        rate = self.match(leg.contact_e164)
        return None if rate is None else rate.price(leg.duration())


def parse_rates(text: str, source: str = "rate table") -> RateTable:
    """Parse a rate table CSV (with a header row); errors name the row and the column."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rates: list[Rate] = []
    seen: dict[str, int] = {}
    for cells in reader:
        row = reader.line_num
        if not cells or all(not cell.strip() for cell in cells) or cells[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = _parse_header(cells, source, row)
            continue
        if len(cells) != len(header):
            raise ValidationFailed(f"{source} row {row}: expected {len(header)} columns "
                                   f"({', '.join(header)}), found {len(cells)}", field="row")
        values = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
        rate = _parse_row(values, source, row)
        if rate.prefix in seen:
            raise ValidationFailed(f"{source} row {row}, column prefix: prefix {rate.prefix} already "
                                   f"appears in row {seen[rate.prefix]}", field="prefix")
        seen[rate.prefix] = row
        rates.append(rate)
    if header is None or not rates:
        raise ValidationFailed(f"{source} has no rates: expected a header row "
                               f"({','.join(COLUMNS)}) and at least one rate", field="rates")
    return RateTable(rates)


def _parse_header(cells: list[str], source: str, row: int) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    unknown = [name for name in names if name not in COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ValidationFailed(f"{source} row {row}: unknown column {unknown[0]!r}; the columns are "
                               f"{', '.join(COLUMNS + OPTIONAL_COLUMNS)}", field=unknown[0])
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise ValidationFailed(f"{source} row {row}: missing column {missing[0]!r} in the header",
                               field=missing[0])
    if len(set(names)) != len(names):
        raise ValidationFailed(f"{source} row {row}: a column is named twice", field="row")
    return names


def _parse_row(values: dict[str, str], source: str, row: int) -> Rate:
    def fail(column: str, problem: str) -> ValidationFailed:
        return ValidationFailed(f"{source} row {row}, column {column}: {problem}", field=column)

    prefix = _PREFIX.match(values["prefix"])
    if not prefix:
        raise fail("prefix", f"{values['prefix']!r} must be 1 to 15 digits (E.164, optional +)")
    try:
        price = Decimal(values["price_per_minute"])
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0:
        raise fail("price_per_minute", f"{values['price_per_minute']!r} must be a non-negative decimal")
    currency = values["currency"].upper()
    if not _CURRENCY.match(currency):
        raise fail("currency", f"{values['currency']!r} must be an ISO 4217 code like USD or INR")
    try:
        increment = Increment.parse(values["billing_increment"])
    except ValueError as exc:
        raise fail("billing_increment", f"{values['billing_increment']!r} {exc}") from None
    return Rate(prefix.group(1), price, currency, increment, values.get("description") or None)


def record_price(leg: Leg, price: Price | None) -> None:
    """Store a computed price on the leg (`extra["price"]`, `extra["price_unit"]`); None stores nothing."""
    if price is not None:
        leg.extra["price"] = str(price.amount)
        leg.extra["price_unit"] = price.currency


def stored_price(leg: Leg) -> Price | None:
    """The price recorded on the leg, or None when it has none."""
    amount, unit = leg.extra.get("price"), leg.extra.get("price_unit")
    if amount is None or unit is None:
        return None
    return Price(Decimal(str(amount)), str(unit))
