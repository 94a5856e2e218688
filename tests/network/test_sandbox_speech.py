"""The sandbox's far end answers a speech gather with the phrase its leg was created with (`sandbox_speech`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from legato.domain import machine as m
from legato.domain.clock import ManualClock
from legato.network.base import DialRequest, MediaCommand
from legato.network.sandbox import SandboxNetwork


async def _answered(phrase: str | None) -> tuple[SandboxNetwork, ManualClock, list[tuple[str, Any]]]:
    clock = ManualClock()
    network = SandboxNetwork(clock)
    signals: list[tuple[str, Any]] = []
    await network.start(lambda leg_sid, signal: signals.append((leg_sid, signal)), lambda call: None)
    options = {"sandbox_speech": phrase} if phrase else {}
    network.dial(DialRequest("L1", "AC1", "+919100001234", "number", "+918030752400", options=options))
    clock.advance(5)
    return network, clock, signals


def _gathered(signals: list[tuple[str, Any]]) -> list[dict[str, object]]:
    return [s.data for _, s in signals if isinstance(s, m.MediaEvent) and s.name == "gather_completed"]


async def test_a_speech_gather_hears_the_leg_s_phrase() -> None:
    network, clock, signals = await _answered("talk to sales")
    await network.media("L1", SimpleNamespace(kind="gather", input="dtmf speech"))  # type: ignore[arg-type]
    clock.advance(1)
    assert _gathered(signals) == [
        {"digits": "", "speech_result": "talk to sales", "confidence": 0.9, "reason": "speech"}
    ]


async def test_a_digit_gather_still_hears_keys() -> None:
    network, clock, signals = await _answered("talk to sales")
    await network.media("L1", MediaCommand("gather", num_digits=2))
    clock.advance(5)
    assert _gathered(signals) == [{"digits": "12", "reason": "num_digits"}]
