"""answer: answer a ringing inbound leg, optionally streaming its audio from then on (`stream`)."""

from __future__ import annotations

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.app.streams import STREAM_KEY, StreamRequest
from legato.domain import machine as m
from legato.domain.leg import Direction, Leg, LegState


async def _answer(request: Request, ctx: ActionContext) -> Leg:
    leg = ctx.leg
    if request.stream is not None:
        await ctx.services.streams.check(request.stream, "stream.")
        if leg.state is LegState.RINGING and leg.direction is Direction.INBOUND:
            leg.extra[STREAM_KEY] = request.stream.model_dump()  # written with the answer; started once connected
    return await ctx.services.switchboard.command(leg.leg_sid, m.Answer())


ACTION = ActionSpec("answer", {
    "stream": (StreamRequest | None, Field(None, description="answer: stream the leg's audio from answer")),
}, control=_answer)
