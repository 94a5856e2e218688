"""The application's services in process, on the engine of tests/engine/inprocess.py (sandbox, manual clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from legato.app.legs import CreateLeg, LegService
from legato.domain.account import Account
from legato.domain.clock import ManualClock
from legato.engine.placement import Placement
from tests.engine.inprocess import Engine

ACME = Account(account_sid="acme", name="Acme", api_key="key_x", created_at=datetime(2026, 1, 1, tzinfo=UTC),
               exophones=("+918030752400",))


def service(e: Engine) -> LegService:
    return LegService(e.legs, e.switchboard, e.clock, placement=Placement({"dc1": ["nso1"]}))


async def create(legs: LegService, number: str, **fields: Any) -> str:
    leg = await legs.create(ACME, CreateLeg(contact_uri=number, exophone="08030752400",
                                            leg_event_endpoint="http://127.0.0.1:9/events", event_format="telefonie",
                                            **fields))
    return leg.leg_sid


def stamps(e: Engine, leg_sid: str) -> list[tuple[str, float]]:
    """(event, seconds on the manual clock since it started) of the leg's durable events."""
    start = ManualClock().now()
    return [(r["event_name"], (r["timestamp"] - start).total_seconds()) for r in e.commits.rows
            if r["leg_sid"] == leg_sid]
