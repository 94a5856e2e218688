"""redirect: run another call flow on a connected leg now (the `url` fetched with `method`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from legato.app.actions.base import URL, ActionContext, ActionSpec, Request
from legato.app.flow_fields import check_flow_url
from legato.domain import machine as m
from legato.domain.errors import Conflict
from legato.domain.leg import Leg, LegState


async def _redirect(request: Request, ctx: ActionContext) -> Leg:
    leg = ctx.leg
    if leg.state is not LegState.CONNECTED:
        raise Conflict(f"redirect needs a connected leg (this one is {leg.state})", field="action")
    url = await check_flow_url(request.url or "", "url", ctx.services.endpoints)
    return await ctx.services.switchboard.command(
        leg.leg_sid, m.MediaEvent("flow_redirect", {"url": url, "method": request.method or "POST"}))


ACTION = ActionSpec("redirect", {
    "url": URL,
    "method": (Literal["POST", "GET"] | None, Field(None, description="redirect: how the flow URL is fetched")),
}, ("url",), control=_redirect)
