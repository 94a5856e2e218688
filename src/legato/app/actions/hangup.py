"""hangup: end the leg; a ringing inbound leg may be refused as busy (SIP 486) or rejected (603)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.domain import machine as m
from legato.domain.errors import ValidationFailed
from legato.domain.leg import Direction, Leg, LegState

REASON_RULE = "reason applies only to hanging up a ringing inbound leg"


async def _hangup(request: Request, ctx: ActionContext) -> Leg:
    leg = ctx.leg
    if request.reason is not None and not (leg.direction is Direction.INBOUND and leg.state is LegState.RINGING):
        raise ValidationFailed(REASON_RULE, field="reason")
    return await ctx.services.switchboard.command(leg.leg_sid, m.Hangup(request.reason))


ACTION = ActionSpec("hangup", {
    "reason": (Literal["busy", "rejected"] | None, Field(
        None, description="hangup of a ringing inbound leg: busy (486) or rejected (603)")),
}, control=_hangup)
