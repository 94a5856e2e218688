"""Call use-cases: read a call (a call_sid and its legs) and the RingCentral-style call log."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from legato.dialects import ringcentral
from legato.domain.account import Account
from legato.domain.call import Call
from legato.domain.errors import NotFound, ValidationFailed
from legato.domain.leg import Leg
from legato.store.repositories import LegRepository

SCAN_LIMIT = 5000  # legs read per call-log query; a window wider than this is cut (newest kept)


class CallService:
    """Reading calls; calls are views over legs, so there is nothing to write."""

    def __init__(self, legs: LegRepository) -> None:
        self.legs = legs

    async def get(self, account: Account, call_sid: str) -> Call:
        """The account's call, or NotFound (also for other accounts' calls)."""
        legs = await self.legs.by_call(account.account_sid, call_sid)
        if not legs:
            raise NotFound("no such call", field="call_sid")
        return Call.of(legs)

    async def log(self, account: Account, *, date_from: datetime | None, date_to: datetime | None,
                  direction: str | None, result: str | None, page: int, per_page: int) -> tuple[list[Call], int]:
        """One page of calls whose legs were created in the window, newest first, and the total count.

        `direction` (Inbound/Outbound) and `result` (RingCentral result) apply to the call's master leg.
        """
        if result is not None and result not in ringcentral.RESULT_CONDITIONS:
            raise ValidationFailed(f"result must be one of {', '.join(ringcentral.RESULT_CONDITIONS)}",
                                   field="result")
        groups: dict[str, list[Leg]] = defaultdict(list)
        for leg in await self.legs.created_between(account.account_sid, date_from, date_to, SCAN_LIMIT):
            groups[leg.call_sid].append(leg)
        calls = [Call.of(group) for group in groups.values()]
        calls = [call for call in calls
                 if (direction is None or call.master.direction.value == direction.lower())
                 and (result is None or ringcentral.result(call.master) == result)]
        calls.sort(key=lambda call: call.master.leg_sid, reverse=True)
        chosen = calls[(page - 1) * per_page: page * per_page]
        return [await self.get(account, call.call_sid) for call in chosen], len(calls)
