"""Media inputs of the leg machine: AMD figures, media events as leg_action_events, figures after the end."""

from __future__ import annotations

from legato.domain import machine as m
from legato.domain.leg import AnsweredBy, LegState
from tests.domain.test_machine import T0, emitted, new_leg


def connected(**kwargs: object) -> m.LegMachine:
    machine = m.LegMachine(new_leg(**kwargs), amd_cap=3.0)
    machine.handle(m.Start(), T0)
    effects = machine.handle(m.Answered(), T0)
    assert machine.leg.state is LegState.CONNECTED
    if kwargs.get("amd_enable") and not kwargs.get("async_amd"):
        assert m.StartTimer(m.AMD_CAP, 3.0) in effects
    return machine


def test_sync_verdict_figures_go_on_the_leg_and_on_leg_answered() -> None:
    machine = connected(amd_enable=True)
    effects = machine.handle(m.AmdResult(AnsweredBy.HUMAN, decision_ms=900, initial_silence_ms=400,
                                         greeting_ms=500, words=1, confidence=0.82), T0)
    [answered] = [e for e in effects if isinstance(e, m.Emit)]
    figures = {"answered_by": "HUMAN", "decision_ms": 900, "initial_silence_ms": 400, "greeting_ms": 500, "words": 1,
               "confidence": 0.82}
    assert answered.name == "leg_answered" and answered.data == {"amd": figures}
    assert machine.leg.extra["amd"] == figures and machine.leg.answered_by is AnsweredBy.HUMAN


def test_async_beep_after_machine_replaces_the_figures() -> None:
    machine = connected(amd_enable=True, async_amd=True)
    machine.handle(m.AmdResult(AnsweredBy.MACHINE, decision_ms=2600, words=5), T0)
    effects = machine.handle(m.AmdResult(AnsweredBy.BEEP, decision_ms=9000), T0)
    assert emitted(effects) == ["amd_result_success"]
    assert machine.leg.extra["amd"] == {"answered_by": "BEEP", "decision_ms": 9000}


def test_beep_after_human_is_reported_and_a_later_human_is_not() -> None:
    machine = connected(amd_enable=True)
    machine.handle(m.AmdResult(AnsweredBy.HUMAN, decision_ms=2900, confidence=0.76), T0)
    effects = machine.handle(m.AmdResult(AnsweredBy.BEEP, decision_ms=3900), T0)
    assert emitted(effects) == ["amd_result_success"] and machine.leg.answered_by is AnsweredBy.BEEP
    assert machine.handle(m.AmdResult(AnsweredBy.HUMAN, decision_ms=4000), T0) == []


def test_media_events_are_action_events_and_leave_the_state_alone() -> None:
    machine = connected()
    effects = machine.handle(m.MediaEvent("gather_completed", {"digits": "42", "reason": "finish_on_key"}), T0)
    assert effects == [m.Emit("gather_completed", m.ACTION, data={"digits": "42", "reason": "finish_on_key"})]
    assert machine.leg.state is LegState.CONNECTED


def test_recording_and_figures_after_the_end() -> None:
    machine = connected()
    machine.handle(m.Hangup(), T0)
    assert machine.handle(m.MediaEvent("play_completed", {"reason": "released"}), T0) == []
    done = machine.handle(m.MediaEvent("recording_completed", {"recording_url": "http://x/r.wav"}), T0)
    assert emitted(done) == ["recording_completed"]
    assert machine.handle(m.MediaStats({"packets_lost": 2, "jitter_ms": 1.5}), T0) == []
    assert machine.leg.extra["recording_url"] == "http://x/r.wav"
    assert machine.leg.extra["rtcp"] == {"packets_lost": 2, "jitter_ms": 1.5}


def test_media_events_before_the_answer_are_ignored() -> None:
    machine = m.LegMachine(new_leg())
    machine.handle(m.Start(), T0)
    assert machine.handle(m.MediaEvent("dtmf_received", {"digit": "1"}), T0) == []
