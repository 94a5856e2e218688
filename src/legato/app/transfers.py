"""The transfer use-case: `{"action": "transfer", "to", "mode", "transfer_event_endpoint"}` on a connected leg.

Blind: the leg's machine sends the REFER through its network (engine/switchboard.py, network `refer`).
Attended: the new leg to `to` is created exactly as `POST .../legs` creates one (`LegService.create`: caller-id
rules, timeouts, CPS limits and queue), with the transferred leg's exophone, timeouts, event format and call
(`reference_leg_sid`), then engine/transfers.py bridges it with the transferred leg when it answers.
"""

from __future__ import annotations

from legato.app.legs import CreateLeg, LegAction, LegService
from legato.domain import machine as m
from legato.domain.account import Account
from legato.domain.errors import Conflict, ValidationFailed
from legato.domain.ids import new_leg_sid
from legato.domain.leg import Leg, LegState
from legato.domain.numbers import parse_address
from legato.domain.transfer import TRANSFER_KEY, TRANSFERRED_FROM_KEY
from legato.engine.transfers import Transfers
from legato.events.sinks.registry import check_event_endpoint

FIELD = "transfer_event_endpoint"


class TransferService:
    """Starts transfers; LegService hands it the `transfer` action."""

    def __init__(self, legs: LegService, engine: Transfers) -> None:
        self.legs = legs
        self.engine = engine
        legs.transfer = self.start

    async def start(self, account: Account, leg: Leg, action: LegAction) -> Leg:
        """Validate (400 naming the field, 409 when the leg cannot be transferred now) and start the transfer."""
        assert action.to is not None  # required by the action's spec
        target = parse_address(action.to, "to", account.default_region)
        endpoint = action.transfer_event_endpoint
        if endpoint is not None:
            await check_event_endpoint(self.legs.endpoints, endpoint, FIELD)
        live = self.legs.switchboard.get(leg.leg_sid)
        if live is None:
            raise Conflict("leg is not live on this node; only a connected leg can be transferred", field="leg_sid")
        if live.state is not LegState.CONNECTED:
            raise Conflict(f"transfer needs a connected leg (this one is {live.state})", field="action")
        if TRANSFER_KEY in live.extra:
            raise Conflict(f"leg {leg.leg_sid} is already being transferred", field="action")
        mode = action.mode or "blind"
        transfer = m.Transfer(
            action.to, mode, endpoint, destination=target.e164 or target.canonical, destination_kind=target.kind
        )
        if mode == "blind":
            return await self.legs.switchboard.command(leg.leg_sid, transfer)
        events_to = endpoint or live.leg_event_endpoint
        if not events_to:
            raise ValidationFailed(
                "an attended transfer of a leg without an event endpoint needs "
                "transfer_event_endpoint (where the new leg's events go)",
                field=FIELD,
            )
        request = CreateLeg(
            contact_uri=action.to,
            exophone=live.exophone,
            leg_event_endpoint=events_to,
            network_type="voip" if target.kind == "sip" else "pstn",
            custom_param=live.custom_param,
            timeout=live.timeout,
            setup_timeout=live.setup_timeout,
            ring_timeout=live.ring_timeout,
            reference_leg_sid=live.leg_sid,
            event_format=live.extra.get("event_format", "exotel"),
        )
        # A is marked first, with the new leg's sid, and watched before the new leg exists: whatever the new
        # leg does from its first moment (fail at once, answer at once) finds its transfer waiting.
        new_sid = new_leg_sid()
        attended = m.Transfer(action.to, mode, endpoint, new_sid, transfer.destination, transfer.destination_kind)
        updated = await self.legs.switchboard.command(leg.leg_sid, attended)
        self.engine.watch(leg.leg_sid, new_sid)
        try:
            await self.legs.create(account, request, extra={TRANSFERRED_FROM_KEY: live.leg_sid}, leg_sid=new_sid)
        except BaseException:  # not dialled (400, 429, 503): the API says why, the leg is as before
            self.engine.withdraw(leg.leg_sid, new_sid)
            raise
        now = self.legs.switchboard.get(leg.leg_sid)
        if now is None:  # the leg ended while the new leg was being created: nobody is left to bridge
            self.engine.abandon(new_sid)
        return now or updated
