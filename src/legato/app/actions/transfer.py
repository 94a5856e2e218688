"""transfer: hand the leg to another number, blind (SIP REFER) or attended (docs/transfers.md; app/transfers.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.domain.errors import Conflict
from legato.domain.leg import Leg


async def _transfer(request: Request, ctx: ActionContext) -> Leg:
    transfer = ctx.services.transfer
    if transfer is None:
        raise Conflict("this server does not transfer legs", field="action")
    return await transfer(ctx.account, ctx.leg, request)


ACTION = ActionSpec("transfer", {
    "to": (str | None, Field(None, min_length=1, max_length=256,
                             description="transfer: the number or sip: URI to transfer the leg to")),
    "mode": (Literal["blind", "attended"] | None, Field(
        None, description="transfer: blind (SIP REFER to the far end; default) or attended (Legato dials `to` "
                          "and bridges it with the leg when it answers)")),
    "transfer_event_endpoint": (str | None, Field(
        None, min_length=1, max_length=2048,
        description="transfer: where the transfer events go (default: the leg's endpoint)")),
}, ("to",), control=_transfer)
