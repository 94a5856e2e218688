"""The machine dispatches through an explicit table: every input type has exactly one handler."""

import typing

from legato.domain import machine as m


def test_every_input_has_a_handler() -> None:
    assert set(m.HANDLERS) == set(typing.get_args(m.Input))
