"""Phone numbers and SIP URIs: parsing, normalising and the errors that name the field."""

from __future__ import annotations

import pytest

from legato.domain.errors import ValidationFailed
from legato.domain.numbers import national_format, parse_address


@pytest.mark.parametrize(("raw", "e164"), [
    ("09163816621", "+919163816621"), ("919163816621", "+919163816621"), ("+919163816621", "+919163816621"),
    ("+14155552671", "+14155552671"), ("+44 20 7946 0958", "+442079460958"), ("080-3075-2400", "+918030752400"),
])
def test_numbers_normalise_to_e164(raw: str, e164: str) -> None:
    address = parse_address(raw, "contact_uri")
    assert (address.kind, address.e164, address.raw) == ("number", e164, raw)


@pytest.mark.parametrize("raw", ["12", "abc", "+1", "0000000000000000000", "+999123456789"])
def test_bad_numbers_name_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_address(raw, "exophone")
    assert info.value.field == "exophone"


def test_sip_uri_parts() -> None:
    address = parse_address("sip:alice@127.0.0.1:5070;transport=udp", "contact_uri")
    assert (address.kind, address.user, address.host, address.port) == ("sip", "alice", "127.0.0.1", 5070)


@pytest.mark.parametrize("raw", ["sip:", "sip:a@", "sip:a b@host", "sip:a@host:99999"])
def test_bad_sip_uris(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_address(raw, "contact_uri")


def test_national_format_has_trunk_prefix() -> None:
    assert national_format("+919163816621") == "09163816621"
