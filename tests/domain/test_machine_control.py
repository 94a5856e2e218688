"""The leg machine's call-control inputs: queueing, queue timeout, bridges, the sync AMD cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from legato.domain import machine as m
from legato.domain.errors import Conflict
from legato.domain.leg import AnsweredBy, Direction, Leg, LegState, TerminalStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def leg(**fields: object) -> Leg:
    values: dict[str, object] = dict(leg_sid="L1", account_sid="A", call_sid="C1", direction=Direction.OUTBOUND,
                                     contact_uri="+14155552671", contact_e164="+14155552671", exophone="08030752400",
                                     network_type="pstn", leg_event_endpoint="http://x", date_created=T0)
    values.update(fields)
    return Leg(**values)  # type: ignore[arg-type]


def emitted(effects: list[m.Effect]) -> list[str]:
    return [e.name for e in effects if isinstance(e, m.Emit)]


def connected(machine: m.LegMachine) -> None:
    machine.handle(m.Start(), T0)
    machine.handle(m.Answered(), T0)


def test_enqueue_starts_the_queue_timer_and_start_cancels_it() -> None:
    machine = m.LegMachine(leg())
    effects = machine.handle(m.Enqueue(max_wait=30), T0)
    assert machine.leg.state is LegState.ENQUEUED and effects == [m.StartTimer(m.QUEUE, 30)]
    effects = machine.handle(m.Start(), T0 + timedelta(seconds=1))
    assert m.CancelTimer(m.QUEUE) in effects and emitted(effects) == ["leg_connecting"]


def test_queue_timeout_fails_the_leg_with_one_leg_terminated() -> None:
    machine = m.LegMachine(leg())
    machine.handle(m.Enqueue(max_wait=30), T0)
    effects = machine.handle(m.TimerFired(m.QUEUE), T0 + timedelta(seconds=30))
    assert emitted(effects) == ["leg_terminated"]
    assert not any(isinstance(e, m.NetworkCommand) for e in effects)
    done = machine.leg
    assert (done.state, done.terminal_status, done.hangup_cause, done.hangup_cause_code) == \
        (LegState.TERMINAL, TerminalStatus.FAILED, "queue_timeout", 34)


def test_queue_timer_is_ignored_once_the_leg_started() -> None:
    machine = m.LegMachine(leg())
    machine.handle(m.Enqueue(max_wait=30), T0)
    machine.handle(m.Start(), T0)
    assert machine.handle(m.TimerFired(m.QUEUE), T0) == []
    assert machine.leg.state is LegState.CONNECTING


def test_hangup_of_an_enqueued_leg_cancels_it_without_network() -> None:
    machine = m.LegMachine(leg())
    machine.handle(m.Enqueue(), T0)
    effects = machine.handle(m.Hangup(), T0)
    assert emitted(effects) == ["leg_terminated"] and machine.leg.terminal_status is TerminalStatus.CANCELED
    assert not any(isinstance(e, m.NetworkCommand) for e in effects)


def test_join_and_leave_bridge() -> None:
    machine = m.LegMachine(leg())
    connected(machine)
    effects = machine.handle(m.JoinBridge("B1", "C0"), T0)
    assert emitted(effects) == ["leg_joined_bridge"]
    assert machine.leg.call_sid == "C0" and machine.leg.extra[m.BRIDGE_KEY] == "B1"
    with pytest.raises(Conflict):
        machine.handle(m.JoinBridge("B2", "C0"), T0)
    assert emitted(machine.handle(m.LeaveBridge("B2"), T0)) == []
    left = machine.handle(m.LeaveBridge("B1"), T0)
    assert emitted(left) == ["leg_left_bridge", "bridge_completed"]
    assert left[0].data == {"bridge_sid": "B1", "reason": "bridge_stopped"}
    assert left[1].data == {"bridge_sid": "B1", "reason": "bridge_stopped", "bridge_role": "initiator",
                            "ended_by_leg_sid": None}
    assert m.BRIDGE_KEY not in machine.leg.extra


def test_only_connected_legs_join() -> None:
    machine = m.LegMachine(leg())
    machine.handle(m.Start(), T0)
    with pytest.raises(Conflict, match="connecting"):
        machine.handle(m.JoinBridge("B1", "C0"), T0)


def test_a_bridged_leg_that_ends_leaves_first() -> None:
    machine = m.LegMachine(leg())
    connected(machine)
    machine.handle(m.JoinBridge("B1", "C0"), T0)
    effects = machine.handle(m.Hangup(cause="bridge_ended"), T0)
    assert emitted(effects) == ["leg_left_bridge", "leg_terminated"]
    assert machine.leg.hangup_cause == "bridge_ended"


def test_sync_amd_cap_is_configurable() -> None:
    machine = m.LegMachine(leg(amd_enable=True), amd_cap=3.5)
    machine.handle(m.Start(), T0)
    effects = machine.handle(m.Answered(), T0)
    assert m.StartTimer(m.AMD_CAP, 3.5) in effects and emitted(effects) == []
    assert emitted(machine.handle(m.TimerFired(m.AMD_CAP), T0)) == ["leg_answered"]
    assert machine.leg.answered_by is None
    late = machine.handle(m.AmdResult(AnsweredBy.MACHINE), T0)  # a verdict after the cap is still reported
    assert emitted(late) == ["amd_result_success"]


@pytest.mark.parametrize(("setup", "network", "status"), [
    ("connected", "bye", TerminalStatus.COMPLETED),
    ("ringing", "cancel", TerminalStatus.CANCELED),
    ("enqueued", None, TerminalStatus.CANCELED),
    ("inbound", "reject", TerminalStatus.FAILED),
])
def test_shutdown_ends_any_live_leg_with_platform_shutdown(setup: str, network: str | None,
                                                          status: TerminalStatus) -> None:
    machine = m.LegMachine(leg(direction=Direction.INBOUND) if setup == "inbound" else leg())
    if setup == "connected":
        connected(machine)
    elif setup == "ringing":
        machine.handle(m.Start(), T0)
        machine.handle(m.Ringing(), T0)
    elif setup == "enqueued":
        machine.handle(m.Enqueue(), T0)
    else:
        machine.handle(m.Incoming(), T0)
    effects = machine.handle(m.Shutdown(), T0 + timedelta(seconds=5))
    commands = [e for e in effects if isinstance(e, m.NetworkCommand)]
    assert [c.kind for c in commands] == ([network] if network else [])
    if network == "reject":
        assert commands[0].sip_code == 503
    assert emitted(effects) == ["leg_terminated"]
    done = machine.leg
    assert (done.state, done.terminal_status, done.hangup_cause, done.hangup_source.value) == \
        (LegState.TERMINAL, status, "platform_shutdown", "platform")


def test_a_hangup_the_network_could_not_send_is_reported_after_the_end() -> None:
    machine = m.LegMachine(leg())
    connected(machine)
    effects = machine.handle(m.Hangup(), T0)
    assert m.NetworkCommand("bye") in effects and emitted(effects) == ["leg_terminated"]
    effects = machine.handle(m.HangupFailed("the BYE could not be sent after 4 tries: no route"), T0)
    assert emitted(effects) == ["leg_hangup_failed"]
    assert effects[0].error == {"error_code": 41, "message": "hangup_failed",  # type: ignore[union-attr]
                                "description": "the BYE could not be sent after 4 tries: no route"}
    assert machine.leg.extra[m.HANGUP_FAILED_KEY].startswith("the BYE could not be sent")


def test_on_a_confirming_network_the_end_waits_for_the_bye_to_go_out() -> None:
    machine = m.LegMachine(leg(), confirm_hangup=True)
    connected(machine)
    effects = machine.handle(m.Hangup(), T0)
    assert effects == [m.NetworkCommand("bye"), m.StartTimer(m.HANGING_UP, m.HANGUP_WAIT_SECONDS)]
    assert machine.leg.state is LegState.CONNECTED  # true to the wire: the BYE has not left yet
    assert machine.handle(m.Hangup(), T0) == []  # asked twice: the end is already on its way
    assert machine.handle(m.Ringing(), T0) == []
    effects = machine.handle(m.HangupSent(), T0 + timedelta(seconds=1))
    assert emitted(effects) == ["leg_terminated"] and m.CancelTimer(m.HANGING_UP) in effects
    assert machine.leg.terminal_status is TerminalStatus.COMPLETED and machine.leg.hangup_cause == "hangup_requested"
    assert machine.leg.end_time == T0 + timedelta(seconds=1)  # when the BYE went out
    assert m.HANGING_UP_KEY not in machine.leg.extra


def test_a_bye_that_cannot_be_sent_ends_the_leg_saying_so() -> None:
    machine = m.LegMachine(leg(), confirm_hangup=True)
    connected(machine)
    assert emitted(machine.handle(m.Hangup(), T0)) == []
    effects = machine.handle(m.HangupFailed("the BYE could not be sent after 4 tries: no route"), T0)
    assert emitted(effects) == ["leg_hangup_failed", "leg_terminated"]
    assert machine.leg.hangup_cause == "hangup_failed" and machine.leg.terminal_status is TerminalStatus.COMPLETED
    assert machine.leg.extra[m.HANGUP_FAILED_KEY].startswith("the BYE could not be sent")


def test_a_cancel_the_network_never_confirms_ends_on_the_timer() -> None:
    machine = m.LegMachine(leg(), confirm_hangup=True)
    machine.handle(m.Start(), T0)
    machine.handle(m.Ringing(), T0)
    effects = machine.handle(m.Hangup(), T0)
    assert effects[0] == m.NetworkCommand("cancel") and emitted(effects) == []
    assert emitted(machine.handle(m.TimerFired("time_limit"), T0)) == []
    effects = machine.handle(m.TimerFired(m.HANGING_UP), T0 + timedelta(seconds=10))
    assert emitted(effects) == ["leg_terminated"] and machine.leg.terminal_status is TerminalStatus.CANCELED


def test_a_far_end_bye_crossing_ours_ends_the_leg_once() -> None:
    machine = m.LegMachine(leg(), confirm_hangup=True)
    connected(machine)
    machine.handle(m.Hangup(), T0)
    assert emitted(machine.handle(m.Ended(), T0)) == ["leg_terminated"]
    assert machine.handle(m.HangupSent(), T0) == []


def test_shutdown_ends_at_once_even_on_a_confirming_network() -> None:
    machine = m.LegMachine(leg(), confirm_hangup=True)
    connected(machine)
    effects = machine.handle(m.Shutdown(), T0)
    assert m.NetworkCommand("bye") in effects and emitted(effects) == ["leg_terminated"]
