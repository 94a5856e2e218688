"""The leg state machine: any sequence of inputs gives at most one terminal event and no way out of terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from legato.domain import machine as m
from legato.domain.errors import Conflict
from legato.domain.leg import TRANSITIONS, AnsweredBy, Direction, HangupSource, Leg, LegState

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def new_leg(direction: Direction = Direction.OUTBOUND, **kwargs: object) -> Leg:
    return Leg(leg_sid="L1", account_sid="A", call_sid="C", direction=direction, contact_uri="09163816621",
               contact_e164="+919163816621", exophone="08030752400", network_type="pstn",
               leg_event_endpoint="http://x", date_created=T0, **kwargs)  # type: ignore[arg-type]


def emitted(effects: list[m.Effect]) -> list[str]:
    return [e.name for e in effects if isinstance(e, m.Emit)]


INPUTS = st.one_of(
    st.just(m.Enqueue()), st.just(m.Start()), st.just(m.Incoming()), st.builds(m.Ringing, st.booleans()),
    st.just(m.Answered()), st.builds(m.AmdResult, st.sampled_from(AnsweredBy)),
    st.builds(m.Ended, st.sampled_from([None, 404, 408, 480, 486, 487, 503, 603]), st.none(), st.none(),
              st.sampled_from(HangupSource)),
    st.builds(m.TimerFired, st.sampled_from([m.SETUP, m.RING, m.ANSWER, m.TIME_LIMIT, m.AMD_CAP])),
    st.builds(m.Hangup, st.sampled_from([None, "busy", "rejected"])), st.just(m.Answer()),
    st.builds(m.FailedToCreate, st.just("no route")), st.just(m.Reconcile()), st.just(m.Shutdown()),
    st.builds(m.MediaEvent, st.sampled_from(["play_completed", "recording_completed", "dtmf_received"]),
              st.just({"x": 1})),
    st.builds(m.MediaStats, st.just({"packets_lost": 0})),
)


class LegLife(RuleBasedStateMachine):
    """Feeds random inputs to one leg and checks the machine's promises after each."""

    def __init__(self) -> None:
        super().__init__()
        self.leg = new_leg()
        self.machine = m.LegMachine(self.leg)
        self.now = T0
        self.terminal_events = 0
        self.states = [self.leg.state]

    @rule(direction=st.sampled_from(Direction), amd=st.booleans(), async_amd=st.booleans())
    def reset(self, direction: Direction, amd: bool, async_amd: bool) -> None:
        self.leg = new_leg(direction, amd_enable=amd, async_amd=amd and async_amd)
        self.machine = m.LegMachine(self.leg)
        self.terminal_events = 0
        self.states = [self.leg.state]

    @rule(event=INPUTS, step=st.floats(0, 100))
    def feed(self, event: m.Input, step: float) -> None:
        self.now += timedelta(seconds=step)
        was_terminal = self.leg.is_terminal
        before = self.leg.state
        try:
            effects = self.machine.handle(event, self.now)
        except Conflict:
            assert isinstance(event, (m.Hangup, m.Answer))
            assert self.leg.state is before
            return
        names = emitted(effects)
        self.terminal_events += names.count("leg_terminated") + names.count("leg_failed_to_create")
        if was_terminal:  # only a recording that closed with the call is still reported
            assert names in ([], ["recording_completed"])
            assert isinstance(event, m.MediaEvent) or names == []
        if self.leg.state is not before:
            assert self.leg.state in TRANSITIONS[before]
        self.states.append(self.leg.state)

    @invariant()
    def at_most_one_terminal_event(self) -> None:
        assert self.terminal_events <= 1
        assert (self.terminal_events == 1) == self.leg.is_terminal

    @invariant()
    def terminal_fields_set(self) -> None:
        if self.leg.is_terminal:
            assert self.leg.terminal_status is not None
            assert self.leg.hangup_cause_code is not None
            assert self.leg.end_time is not None

    @invariant()
    def never_leaves_terminal(self) -> None:
        if LegState.TERMINAL in self.states:
            assert self.states[self.states.index(LegState.TERMINAL):] == \
                [LegState.TERMINAL] * (len(self.states) - self.states.index(LegState.TERMINAL))


TestLegLife = LegLife.TestCase
TestLegLife.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)


def test_answered_stays_answered_when_ringing_arrives_late() -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    assert emitted(machine.handle(m.Answered(), T0)) == ["leg_answered"]
    assert machine.handle(m.Ringing(), T0) == []
    assert machine.leg.state is LegState.CONNECTED


def test_a_200_after_terminal_is_torn_down() -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    machine.handle(m.Hangup(), T0)
    assert machine.handle(m.Answered(), T0) == [m.NetworkCommand("bye")]


@pytest.mark.parametrize(("code", "status", "q850"), [(486, "busy", 17), (600, "busy", 17), (603, "busy", 21),
                                                      (404, "failed", 1), (408, "no-answer", 102),
                                                      (480, "no-answer", 18), (503, "failed", 41)])
def test_final_responses_map_to_status_and_cause(code: int, status: str, q850: int) -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    machine.handle(m.Ended(sip_code=code), T0)
    assert (machine.leg.terminal_status, machine.leg.hangup_cause_code, machine.leg.sip_response_code) == \
        (status, q850, code)


def test_reason_header_wins_over_table() -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    from legato.domain.causes import q850_from_sip
    machine.handle(m.Ended(sip_code=503, q850=q850_from_sip(503, "Q.850;cause=34;text=\"x\"")), T0)
    assert machine.leg.hangup_cause_code == 34


def test_sync_amd_hangup_before_verdict_still_reports_answer_once() -> None:
    machine = m.LegMachine(new_leg(amd_enable=True))
    machine.handle(m.Start(), T0)
    assert emitted(machine.handle(m.Answered(), T0)) == []
    assert emitted(machine.handle(m.Ended(source=HangupSource.CALLEE), T0 + timedelta(seconds=2))) == \
        ["leg_answered", "leg_terminated"]
    assert machine.leg.terminal_status == "completed"


def test_setup_timer_fires_only_before_ringing() -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    machine.handle(m.Ringing(), T0)
    assert machine.handle(m.TimerFired(m.SETUP), T0) == []
    effects = machine.handle(m.TimerFired(m.RING), T0)
    assert m.NetworkCommand("cancel") in effects
    assert (machine.leg.terminal_status, machine.leg.hangup_cause) == ("no-answer", "ring_timeout")
