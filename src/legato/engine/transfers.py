"""Attended transfers in call control: when the new leg answers, bridge it with the transferred leg.

The application layer (app/transfers.py) dials the new leg through the ordinary leg path and calls
`watch`. From then on, switchboard hooks drive the transfer:

- the new leg answers (its `leg_answered`): the transferred leg gets `transfer_answered`, is let go by what
  holds it (engine/holds.py: its bridge is stopped, its other legs stay up; its conference writes
  participant_left, reason `transferred`, and goes on), joins a new bridge with the new leg (`end_on_exit`:
  when one of the two hangs up, so does the other), then gets `transfer_completed`;
- the new leg ends without answering: the transferred leg gets `transfer_failed` and is left as it was;
- the transferred leg ends first: the new leg is hung up (cause `transfer_abandoned`).
"""

from __future__ import annotations

import asyncio
import logging

from legato.domain import machine as m
from legato.domain.errors import Conflict
from legato.domain.events import LegEvent
from legato.domain.leg import Leg, LegState
from legato.domain.transfer import TRANSFER_KEY
from legato.engine.bridges import Bridges
from legato.engine.switchboard import Switchboard

log = logging.getLogger(__name__)
ABANDONED = "transfer_abandoned"  # hangup_cause of a new leg whose transferred leg went away


class Transfers:
    """The attended transfers this process is dialling: new leg -> transferred leg."""

    def __init__(self, switchboard: Switchboard, bridges: Bridges) -> None:
        self.switchboard = switchboard
        self.bridges = bridges
        self.dialling: dict[str, str] = {}  # new leg_sid -> transferred leg_sid
        switchboard.on_events.append(self._on_events)
        switchboard.on_end.append(self._on_end)

    def watch(self, transferred_sid: str, new_sid: str) -> None:
        """Follow the new leg `new_sid` of `transferred_sid`'s attended transfer (before it is dialled)."""
        self.dialling[new_sid] = transferred_sid

    def withdraw(self, transferred_sid: str, new_sid: str) -> None:
        """The new leg could not be dialled: forget it; the transferred leg drops its transfer silently."""
        self.dialling.pop(new_sid, None)
        self._feed(transferred_sid, m.TransferUpdate("withdrawn"))

    def abandon(self, new_sid: str) -> None:
        """Hang up a new leg whose transfer could not go on."""
        self.dialling.pop(new_sid, None)
        self._feed(new_sid, m.Hangup(cause=ABANDONED))

    def _on_events(self, leg: Leg, events: list[LegEvent]) -> None:
        if leg.leg_sid in self.dialling and any(e.event_name == "leg_answered" for e in events):
            asyncio.get_running_loop().call_soon(self._answered, leg.leg_sid)

    def _on_end(self, leg: Leg) -> None:
        transferred_sid = self.dialling.pop(leg.leg_sid, None)
        if transferred_sid is not None:  # the new leg ended before it was bridged
            self._feed(
                transferred_sid,
                m.TransferUpdate(
                    "failed",
                    sip_code=leg.sip_response_code,
                    q850=leg.hangup_cause_code,
                    reason=f"{leg.terminal_status}: {leg.hangup_cause}",
                ),
            )
            return
        for new_sid, old_sid in list(self.dialling.items()):
            if old_sid == leg.leg_sid:  # the transferred leg went away: drop the new one
                del self.dialling[new_sid]
                self._feed(new_sid, m.Hangup(cause=ABANDONED))

    def _answered(self, new_sid: str) -> None:
        transferred_sid = self.dialling.pop(new_sid, None)
        if transferred_sid is None:
            return
        leg = self.switchboard.get(transferred_sid)
        transfer = leg.extra.get(TRANSFER_KEY) if leg is not None else None
        if (
            leg is None
            or leg.state is not LegState.CONNECTED
            or transfer is None
            or transfer.get("transfer_leg_sid") != new_sid
        ):
            self._feed(new_sid, m.Hangup(cause=ABANDONED))
            return
        self._feed(transferred_sid, m.TransferUpdate("answered"))
        try:
            for left in self.switchboard.holds.let_go(transferred_sid):
                self._watch(left)
            _, durable = self.bridges.create(
                leg.account_sid, [transferred_sid, new_sid], endpoint=None, end_on_exit=True
            )
            self._watch(durable)
        except Conflict as exc:
            self._feed(transferred_sid, m.TransferUpdate("failed", reason=f"bridge_failed: {exc}"))
            self._feed(new_sid, m.Hangup(cause=ABANDONED))
            return
        self._feed(transferred_sid, m.TransferUpdate("completed"))

    def _feed(self, leg_sid: str, event: m.Input) -> None:
        try:
            self._watch(self.switchboard.feed(leg_sid, event))
        except Conflict:
            pass  # the leg ended meanwhile
        except Exception:
            log.exception("transfer input failed leg_sid=%s input=%r", leg_sid, event)

    @staticmethod
    def _watch(future: asyncio.Future[object]) -> None:
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
