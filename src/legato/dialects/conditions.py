"""A leg's condition, (state, terminal_status): the key every dialect maps its status from."""

from __future__ import annotations

from collections.abc import Mapping

from legato.domain.leg import LIVE_STATES, Leg, LegState, TerminalStatus

Condition = tuple[LegState, TerminalStatus | None]

ALL_CONDITIONS: tuple[Condition, ...] = (
    *((state, None) for state in LegState if state in LIVE_STATES),
    *((LegState.TERMINAL, status) for status in TerminalStatus),
)


def condition(leg: Leg) -> Condition:
    """The leg's (state, terminal_status); a terminal leg with no status counts as failed."""
    if leg.is_terminal:
        return LegState.TERMINAL, leg.terminal_status or TerminalStatus.FAILED
    return leg.state, None


def preimage(mapping: Mapping[Condition, str], value: str) -> set[Condition]:
    """Every condition a mapping renders as `value` (the inverse used by round-trip checks)."""
    return {key for key, rendered in mapping.items() if rendered == value}
