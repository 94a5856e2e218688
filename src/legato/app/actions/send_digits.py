"""send_digits: key digits to the far end as RFC 4733 telephone-events (`digits_sent` when done).

Sandbox: `digits_sent` after 0.16 s per digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from legato.app.actions.base import ActionContext, ActionSpec, Request
from legato.media.base import MediaEngine
from legato.network.sandbox_leg import SandboxLeg


@dataclass(frozen=True, slots=True)
class SendDigits:
    kind: ClassVar[str] = "send_digits"
    digits: str

    async def run(self, engine: MediaEngine, leg_sid: str) -> dict[str, Any]:
        await engine.send_digits(leg_sid, self.digits)
        return {}

    async def simulate(self, far_end: SandboxLeg) -> dict[str, Any]:
        far_end.later(0.16 * len(self.digits), "digits_sent", {"digits": self.digits})
        return {}


async def _send_digits(request: Request, ctx: ActionContext) -> SendDigits:
    return SendDigits(request.digits)


ACTION = ActionSpec("send_digits", {
    "digits": (str | None, Field(None, pattern=r"^[0-9*#A-Da-d]{1,64}$", description="send_digits: RFC 4733")),
}, ("digits",), command=_send_digits)
