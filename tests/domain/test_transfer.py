"""The leg machine's transfer inputs (domain/transfer.py): blind and attended outcomes, one transfer at a time,
the blind transfer's timer, and a leg that ends while its transfer runs."""

from __future__ import annotations

import pytest

from legato.domain import machine as m
from legato.domain.errors import Conflict
from legato.domain.leg import LegState, TerminalStatus
from legato.domain.transfer import BLIND_WAIT, TRANSFER_KEY, TRANSFER_TIMER
from tests.domain.test_machine_control import T0, connected, emitted, leg

HOOK = "http://transfer-events"


def machine_up() -> m.LegMachine:
    machine = m.LegMachine(leg())
    connected(machine)
    return machine


def test_blind_transfer_sends_the_refer_and_ends_the_leg_when_taken() -> None:
    machine = machine_up()
    effects = machine.handle(m.Transfer("09163810042", "blind", HOOK, destination="+919163810042"), T0)
    assert effects == [m.NetworkCommand("refer"), m.StartTimer(TRANSFER_TIMER, BLIND_WAIT)]
    assert machine.leg.extra[TRANSFER_KEY]["destination"] == "+919163810042"
    effects = machine.handle(m.TransferUpdate("completed", sip_code=200), T0)
    assert emitted(effects) == ["transfer_answered", "transfer_completed", "leg_terminated"]
    assert m.NetworkCommand("bye") in effects and m.CancelTimer(TRANSFER_TIMER) in effects
    events = [e for e in effects if isinstance(e, m.Emit)]
    assert [e.endpoint for e in events] == [HOOK, HOOK, None]  # leg_terminated goes to the leg's endpoint
    assert events[1].data == {
        "transfer_to": "09163810042",
        "transfer_destination": "+919163810042",
        "transfer_mode": "blind",
        "sip_code": 200,
    }
    leg_ = machine.leg
    assert (leg_.terminal_status, leg_.hangup_cause, TRANSFER_KEY in leg_.extra) == (
        TerminalStatus.COMPLETED,
        "transferred",
        False,
    )


def test_refused_transfer_leaves_the_leg_up_and_free_for_another() -> None:
    machine = machine_up()
    machine.handle(m.Transfer("+919163810042"), T0)
    effects = machine.handle(m.TransferUpdate("failed", sip_code=603, reason="Decline"), T0)
    [failed] = [e for e in effects if isinstance(e, m.Emit)]
    assert failed.name == "transfer_failed" and failed.error is not None and failed.error["error_code"] == 21
    assert machine.leg.state is LegState.CONNECTED and TRANSFER_KEY not in machine.leg.extra
    assert machine.handle(m.TransferUpdate("completed"), T0) == []  # late news of no transfer: ignored
    assert machine.handle(m.Transfer("+919163810042"), T0)[0] == m.NetworkCommand("refer")


def test_attended_transfer_reports_and_keeps_the_leg() -> None:
    machine = machine_up()
    assert machine.handle(m.Transfer("+919163810042", "attended", transfer_leg_sid="L2"), T0) == []
    with pytest.raises(Conflict, match="already being transferred"):
        machine.handle(m.Transfer("+919163810043"), T0)
    assert emitted(machine.handle(m.TransferUpdate("answered"), T0)) == ["transfer_answered"]
    assert emitted(machine.handle(m.TransferUpdate("answered"), T0)) == []  # once
    effects = machine.handle(m.TransferUpdate("completed"), T0)
    assert emitted(effects) == ["transfer_completed"] and machine.leg.state is LegState.CONNECTED
    assert effects[-1].data["transfer_leg_sid"] == "L2"  # type: ignore[union-attr]


def test_blind_transfer_times_out_without_an_answer() -> None:
    machine = machine_up()
    machine.handle(m.Transfer("+919163810042"), T0)
    effects = machine.handle(m.TimerFired(TRANSFER_TIMER), T0)
    assert emitted(effects) == ["transfer_failed"] and machine.leg.state is LegState.CONNECTED


def test_a_leg_ending_during_its_transfer_reports_the_transfer_failed_first() -> None:
    machine = machine_up()
    machine.handle(m.Transfer("+919163810042", "attended", transfer_leg_sid="L2"), T0)
    effects = machine.handle(m.Ended(q850=16, reason="BYE"), T0)
    assert emitted(effects) == ["transfer_failed", "leg_terminated"]
    assert effects[1].data["reason"] == "leg_ended"  # type: ignore[union-attr]


def test_only_connected_legs_can_be_transferred() -> None:
    machine = m.LegMachine(leg())
    machine.handle(m.Start(), T0)
    with pytest.raises(Conflict, match="connected"):
        machine.handle(m.Transfer("+919163810042"), T0)
    machine.handle(m.Hangup(), T0)
    with pytest.raises(Conflict, match="terminal"):
        machine.handle(m.Transfer("+919163810042"), T0)


def test_a_withdrawn_transfer_leaves_no_trace() -> None:
    machine = machine_up()
    machine.handle(m.Transfer("+919163810042", "attended", transfer_leg_sid="L2"), T0)
    assert emitted(machine.handle(m.TransferUpdate("withdrawn"), T0)) == []
    assert TRANSFER_KEY not in machine.leg.extra and machine.leg.state is LegState.CONNECTED
