"""Conferences in call control: who is in which conference, the rules for joining, one event stream each.

A conference's events (conference_created, participant_joined, participant_left,
conference_recording_completed, conference_completed) are outbox events of subject "conference" (its sid in
`subject_sid`), so the dispatcher delivers them to the conference's endpoint in order, signed and retried as leg
events.
The network mixes the members' audio (`network/base.py` `Conferencing`); legs stay up when they leave. A member's
`beep` (Twilio's values) plays the network's entry tone into the mix when it joins and the exit tone when it leaves
(`ConferenceTones`); a conference that ends plays none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from legato.dialects.conferences import conference_event_data
from legato.dialects.formats import render_conference_event
from legato.domain.clock import Clock
from legato.domain.conference import CONFERENCE_EVENT, Conference, ConferenceState, Participant, Role, beeps
from legato.domain.errors import Conflict
from legato.domain.events import LegEvent
from legato.domain.ids import new_conference_sid, new_event_sid
from legato.domain.leg import Leg, LegState
from legato.engine.switchboard import Switchboard
from legato.network.base import ConferenceTones, Conferencing
from legato.store.rows import conference_to_row

log = logging.getLogger(__name__)
END_WAIT = 10.0  # seconds to wait for the network to finish a conference's recording
RecordingUrl = Callable[[str, str], str]  # (account_sid, file name) -> URL
Left = Callable[[Conference, str, str], None]  # (conference, leg_sid, reason): a member left
PARTICIPANT_ACTIONS = ("mute", "unmute", "hold", "unhold", "remove")


@dataclasses.dataclass(frozen=True, slots=True)
class NewConference:
    """A new conference's options (the API validated them)."""

    name: str
    endpoint: str | None
    event_format: str | None
    record: bool
    max_participants: int
    end_when_empty: bool
    status_callback: dict[str, Any] | None = None  # TwiML statusCallback (event_format "twilio")


class Conferences:
    """The live conferences of this process and which leg is in which."""

    def __init__(self, clock: Clock, switchboard: Switchboard, recording_url: RecordingUrl) -> None:
        self.clock = clock
        self.switchboard = switchboard
        self.recording_url = recording_url
        self.active: dict[str, Conference] = {}  # also those ending (until their last event is written)
        self.by_leg: dict[str, str] = {}
        self.beeps: dict[str, str] = {}  # leg_sid -> its `beep` (domain/conference.py BEEPS), while it is a member
        self._ending: set[str] = set()  # conferences whose members left, waiting for their last events
        self.on_leave: list[Left] = []  # told when a member leaves (call flows: <Dial><Conference> goes on)
        switchboard.holds.register(self)

    def holding(self, leg_sid: str) -> str | None:
        """What holds the leg, said for a 409 ("conference X"), or None."""
        sid = self.by_leg.get(leg_sid)
        return None if sid is None else f"conference {sid}"

    def live(self, account_sid: str, conference_sid: str) -> Conference | None:
        conference = self.active.get(conference_sid)
        return conference if conference is not None and conference.account_sid == account_sid else None

    def named(self, account_sid: str, name: str) -> Conference | None:
        """The account's active conference (not ending) with this name, the newest if several."""
        found = [
            c
            for c in self.active.values()
            if c.account_sid == account_sid
            and c.name == name
            and c.state is ConferenceState.ACTIVE
            and c.conference_sid not in self._ending
        ]
        return max(found, key=lambda c: c.date_created) if found else None

    def create(self, account_sid: str, settings: NewConference) -> tuple[Conference, asyncio.Future[None]]:
        """A new, empty conference; the future resolves once it and conference_created are durable."""
        self.switchboard.require_store()
        s = settings
        conference = Conference(
            new_conference_sid(),
            account_sid,
            s.name,
            s.endpoint,
            s.event_format,
            s.record,
            s.max_participants,
            s.end_when_empty,
            self.clock.now(),
            status_callback=s.status_callback,
        )
        self.active[conference.conference_sid] = conference
        event = self._event(conference, "conference_created")
        return conference, self._submit(conference, [event], new=True)

    def add(
        self,
        conference: Conference,
        leg_sid: str,
        role: Role,
        *,
        muted: bool,
        hold: bool,
        coach_leg_sid: str | None,
        start_on_enter: bool = True,
        end_on_exit: bool = False,
        beep: str = "false",
    ) -> asyncio.Future[None]:
        """Join a live, connected, co-located leg that is in no bridge or conference; Conflict says why not.
        A conference with a TwiML status callback also gets `conference_started` when its first starter joins.
        `beep` (true, false, onEnter, onExit): whether the conference hears a tone when the leg joins / leaves."""
        self.switchboard.require_store()
        self._require_active(conference)
        leg = self.switchboard.get(leg_sid)
        if leg is None or leg.account_sid != conference.account_sid:
            raise Conflict(f"leg {leg_sid} is not live; only connected legs can join", field="leg_sid")
        if leg.state is not LegState.CONNECTED:
            raise Conflict(f"leg {leg_sid} is {leg.state}; only connected legs can join", field="leg_sid")
        self.switchboard.holds.require_free(leg_sid, "leg_sid")
        if conference.members and leg.dc_code != conference.dc_code:
            raise Conflict(
                f"leg {leg_sid} is in dc {leg.dc_code} but the conference's legs are in dc "
                f"{conference.dc_code}; legs of one conference must share a media engine "
                "(create later legs with reference_leg_sid)",
                field="leg_sid",
            )
        starts = conference.status_callback is not None and start_on_enter and not conference.started
        participant = Participant(
            leg_sid, role, muted, hold, coach_leg_sid, self.clock.now(), start_on_enter=start_on_enter,
            end_on_exit=end_on_exit
        )
        conference.join(participant)
        conference.dc_code = leg.dc_code
        self.by_leg[leg_sid] = conference.conference_sid
        events = [self._event(conference, "participant_joined", leg_sid=leg_sid)]
        if starts:
            events.append(self._event(conference, "conference_started", leg_sid=leg_sid))
        future = self._submit(conference, events)
        self.beeps[leg_sid] = beep
        self._mix(conference)
        self._beep(conference, beep, "enter")
        return future

    def act(self, conference: Conference, leg_sid: str, action: str) -> asyncio.Future[None]:
        """mute, unmute, hold, unhold (a participant_updated event) or remove (participant_left)."""
        self.switchboard.require_store()
        self._require_active(conference)
        member = conference.member(leg_sid)
        if member is None:
            raise Conflict(f"leg {leg_sid} is not in conference {conference.conference_sid}", field="leg_sid")
        if action == "remove":
            return self._leave(conference, leg_sid, "removed")
        if action in ("mute", "unmute"):
            member.muted = action == "mute"
        else:
            member.hold = action == "hold"
        conference.date_updated = self.clock.now()
        future = self._submit(
            conference, [self._event(conference, "participant_updated", leg_sid=leg_sid, reason=action)]
        )
        self._mix(conference)
        return future

    def stop(self, conference: Conference) -> asyncio.Future[Any]:
        """End the conference on request: participant_left for each member, then conference_completed."""
        self.switchboard.require_store()
        self._require_active(conference)
        return self._end(conference, "stopped")

    def let_go(self, leg_sid: str) -> asyncio.Future[Any] | None:
        """Take a leg out of its conference (an attended transfer bridges it elsewhere): participant_left,
        reason `transferred`; None when it is in none."""
        sid = self.by_leg.get(leg_sid)
        return None if sid is None else self._leave(self.active[sid], leg_sid, "transferred")

    def leg_ended(self, leg: Leg) -> None:
        """Switchboard hook: a member's leg ended, so it leaves (end_when_empty: the last one ends it)."""
        sid = self.by_leg.get(leg.leg_sid)
        if sid is not None:
            self._leave(self.active[sid], leg.leg_sid, "leg_ended")

    # ---- internals -------------------------------------------------------------------------
    def _require_active(self, conference: Conference) -> None:
        if conference.state is not ConferenceState.ACTIVE or conference.conference_sid in self._ending:
            raise Conflict(f"conference {conference.conference_sid} is completed or ending", field="conference_sid")

    def _leave(self, conference: Conference, leg_sid: str, reason: str) -> asyncio.Future[Any]:
        conference.leave(leg_sid, self.clock.now(), reason)
        self.by_leg.pop(leg_sid, None)
        beep = self.beeps.pop(leg_sid, "false")
        event = self._event(conference, "participant_left", leg_sid=leg_sid, reason=reason)
        future = self._submit(conference, [event])
        self._tell_left(conference, [leg_sid], reason)
        if conference.end_when_empty and conference.empty_after_use:
            return asyncio.gather(future, self._end(conference, "empty"))
        self._mix(conference)
        self._beep(conference, beep, "exit")
        return future

    def _end(self, conference: Conference, reason: str) -> asyncio.Future[Any]:
        """Members leave (written at once), then the network finishes the mix, then the terminal events."""
        self._ending.add(conference.conference_sid)
        leave = "conference_stopped" if reason == "stopped" else "conference_ended"
        events = []
        for member in conference.members:
            conference.leave(member.leg_sid, self.clock.now(), leave)
            self.by_leg.pop(member.leg_sid, None)
            self.beeps.pop(member.leg_sid, None)
            events.append(self._event(conference, "participant_left", leg_sid=member.leg_sid, reason=leave))
        left = self._submit(conference, events) if events else None
        self._tell_left(conference, [e.data["leg_sid"] for e in events], leave)
        return asyncio.ensure_future(self._complete(conference, reason, left))

    async def _complete(self, conference: Conference, reason: str, left: asyncio.Future[None] | None) -> None:
        recording = None
        network = self.switchboard.network
        if isinstance(network, Conferencing):
            try:
                recording = await asyncio.wait_for(network.conference_end(conference.conference_sid), END_WAIT)
            except Exception:
                log.exception("conference end failed conference_sid=%s", conference.conference_sid)
        events = []
        if recording is not None:
            conference.recording_url = self.recording_url(conference.account_sid, recording["file"])
            events.append(
                self._event(
                    conference,
                    "conference_recording_completed",
                    extra={
                        "recording_id": recording["file"].removesuffix(".wav"),
                        "duration_ms": recording.get("duration_ms"),
                    },
                )
            )
        conference.end(self.clock.now(), reason)
        events.append(self._event(conference, "conference_completed", reason=reason))
        try:
            await self._submit(conference, events)
            if left is not None:
                await left
        finally:
            self.active.pop(conference.conference_sid, None)
            self._ending.discard(conference.conference_sid)

    def _tell_left(self, conference: Conference, leg_sids: list[str], reason: str) -> None:
        for leg_sid in leg_sids:
            for listener in self.on_leave:
                try:
                    listener(conference, leg_sid, reason)
                except Exception:
                    log.exception("on_leave listener failed conference_sid=%s", conference.conference_sid)

    def _mix(self, conference: Conference) -> None:
        network = self.switchboard.network
        if not isinstance(network, Conferencing):
            return
        members = [
            {
                "leg_sid": p.leg_sid,
                "role": p.role.value,
                "muted": p.muted,
                "hold": p.hold,
                "coach_leg_sid": p.coach_leg_sid,
            }
            for p in conference.members
        ]
        try:
            network.conference_mix(
                conference.conference_sid, members, conference.account_sid if conference.record else None
            )
        except Exception:
            log.exception("conference mix failed conference_sid=%s", conference.conference_sid)

    def _beep(self, conference: Conference, beep: str, kind: str) -> None:
        """The conference's `kind` tone, when the member's `beep` asks for it and the network plays tones."""
        network = self.switchboard.network
        if not beeps(beep, kind) or not isinstance(network, ConferenceTones):
            return
        try:
            network.conference_beep(conference.conference_sid, kind)
        except Exception:
            log.exception("conference beep failed conference_sid=%s", conference.conference_sid)

    def _submit(self, conference: Conference, events: list[LegEvent], *, new: bool = False) -> asyncio.Future[None]:
        return self.switchboard.writer.submit_conference(
            conference_to_row(conference), events, new=new, endpoint=conference.conference_event_endpoint
        )

    def _event(
        self,
        conference: Conference,
        name: str,
        *,
        leg_sid: str | None = None,
        reason: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> LegEvent:
        return conference_event(
            conference,
            name,
            self.clock.now(),
            leg_sid=leg_sid,
            reason=reason,
            extra=extra,
            leg=self.switchboard.get(leg_sid) if leg_sid else None,
        )


def conference_event(
    conference: Conference,
    name: str,
    now: Any,
    *,
    leg_sid: str | None = None,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
    leg: Leg | None = None,
) -> LegEvent:
    """The conference's next event (its sequence moves on), rendered in its event_format."""
    conference.event_sequence += 1
    data = conference_event_data(conference)
    if leg_sid is not None:
        member = next(p for p in reversed(conference.participants) if p.leg_sid == leg_sid)
        data.update(
            leg_sid=leg_sid,
            role=member.role.value,
            muted=member.muted,
            hold=member.hold,
            coach_leg_sid=member.coach_leg_sid,
        )
    if reason is not None:
        data["reason"] = reason
    if extra:
        data.update(extra)
    event = LegEvent(
        new_event_sid(),
        conference.conference_sid,
        conference.account_sid,
        conference.event_sequence,
        name,
        CONFERENCE_EVENT,
        now,
        data,
    )
    if conference.event_format:
        body = render_conference_event(conference.event_format, event, conference, leg)
        event = dataclasses.replace(event, body=body, deliver=body is not None)
    return event
