"""Destinations and caller ids: phone numbers (normalised to E.164 with phonenumbers) and SIP URIs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers

from legato.domain.errors import ValidationFailed

DEFAULT_REGION = "IN"
_SIP_URI = re.compile(
    r"^(?P<scheme>sips?):(?:(?P<user>[A-Za-z0-9\-_.!~*'()&=+$,;?/%]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::(?P<port>\d{1,5}))?(?P<params>;[^\s<>@]*)?$"
)
_DIALABLE = re.compile(r"^\+?[0-9][0-9 ()\-.]{2,30}$")


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed destination or caller id: what was sent, and its canonical form."""

    raw: str
    kind: str  # "number" or "sip"
    e164: str | None = None  # numbers only
    user: str | None = None  # sip only
    host: str | None = None
    port: int | None = None

    @property
    def canonical(self) -> str:
        """E.164 for numbers, the URI itself for SIP."""
        return self.e164 if self.e164 is not None else self.raw

    @property
    def digits(self) -> str:
        """The digits that identify the party (number without '+', or the SIP user's digits)."""
        source = self.e164 or self.user or ""
        return "".join(ch for ch in source if ch.isdigit())


def parse_sip_uri(value: str, field: str) -> Address:
    """Parse `sip:user@host[:port][;params]`, or raise ValidationFailed naming the field."""
    match = _SIP_URI.match(value)
    if not match:
        raise ValidationFailed(f"{field} must be a SIP URI like sip:user@host[:port]", field=field)
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        raise ValidationFailed(f"{field} has a port outside 1-65535", field=field)
    return Address(raw=value, kind="sip", user=match.group("user"), host=match.group("host"),
                   port=int(port) if port else None)


def parse_number(value: str, field: str, region: str = DEFAULT_REGION) -> Address:
    """Parse a phone number (national with 0, country code with or without '+', or E.164) to E.164."""
    text = value.strip()
    if not _DIALABLE.match(text):
        raise ValidationFailed(f"{field} must be a phone number (digits, optionally with a leading +) "
                               "or a sip: URI", field=field)
    candidates = [text] if text.startswith("+") else [text, "+" + text]
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            return Address(raw=value, kind="number", e164=e164)
    raise ValidationFailed(f"{field} is not a valid phone number (national numbers are read in region {region}, "
                           "the account's default_region; write other countries' numbers in E.164, +CC...)",
                           field=field)


def prepare_region(region: str = DEFAULT_REGION) -> None:
    """Load `region`'s numbering plan and compile its patterns now; phonenumbers does it on the first number
    parsed in the region, which made a fresh server's first leg the slowest (10-50 ms on this machine)."""
    for kind in phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type(region, kind)
        if example is not None:
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            phonenumbers.is_valid_number(phonenumbers.parse(national, region))


@functools.lru_cache(maxsize=4096)  # pure, and the same exophones and numbers come again and again
def parse_address(value: str, field: str, region: str = DEFAULT_REGION) -> Address:
    """Parse a number (national numbers read in `region`) or a SIP URI, whichever the value is."""
    if value.lower().startswith(("sip:", "sips:")):
        return parse_sip_uri(value, field)
    return parse_number(value, field, region)


def canonical(value: str, region: str = DEFAULT_REGION) -> str:
    """The canonical form used to compare numbers (E.164) and URIs; the value itself when it parses as neither."""
    try:
        return parse_address(value, "number", region).canonical
    except ValidationFailed:
        return value


def check_region(value: str, field: str = "default_region") -> str:
    """An ISO 3166 alpha-2 region with a numbering plan (upper-cased), or ValidationFailed naming the field."""
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed(f"{field} must be an ISO 3166 alpha-2 country code with a numbering plan "
                               f"(e.g. IN, US, GB), not {value!r}", field=field)
    return region


def national_format(e164: str) -> str:
    """The national form with a leading trunk prefix (e.g. +919163816621 -> 09163816621)."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
