"""Which text a database can store, and how the refused field is named."""

from __future__ import annotations

import pytest

from legato.domain.errors import ValidationFailed
from legato.domain.text import check_storable, is_storable


def test_nul_and_lone_surrogates_are_not_storable() -> None:
    assert is_storable("ok \u00e9 \U0001f600 \ufffe")
    assert not is_storable("a\x00b")
    assert not is_storable("\ud800")


@pytest.mark.parametrize(("value", "field"), [
    ({"custom_param": "\x00"}, "custom_param"),
    ({"leg_sids": ["a", "\x00"]}, "leg_sids.1"),
    ({"amd_params": {"k": "\udfff"}}, "amd_params.k"),
    ({"amd_params": {"\x00": 1}}, "amd_params"),
    ("\x00", "body"),
])
def test_the_field_is_named_by_its_path(value: object, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_storable(value)
    assert caught.value.field == field


def test_storable_values_pass() -> None:
    check_storable({"a": [1, None, True, "x", {"b": "y"}]})
