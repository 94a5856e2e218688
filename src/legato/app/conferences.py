"""Conference use-cases: create one, add legs, act on a participant, stop it, read it and its events."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from legato.app.conference_waits import ConferenceWaits
from legato.dialects import formats
from legato.dialects.twilio_conferences import TWILIO
from legato.domain.account import Account
from legato.domain.clock import Clock
from legato.domain.conference import BEEPS, MAX_PARTICIPANTS, Conference, ConferenceState, Role
from legato.domain.errors import Conflict, NotFound, ValidationFailed
from legato.engine.conferences import Conferences, NewConference, conference_event
from legato.events.endpoints import EndpointPolicy
from legato.events.sinks.registry import check_event_endpoint
from legato.store.repositories import ConferenceRepository, LegRepository
from legato.store.rows import conference_from_row, conference_to_row
from legato.store.writer import Writer


class CreateConference(BaseModel):
    """Body of `POST /v2/accounts/{sid}/conferences`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=128, description="the application's name for the conference")
    conference_event_endpoint: str | None = Field(
        None, min_length=1, max_length=2048, description="where conference events go: http(s):// or grpc://"
    )
    event_format: Literal[formats.EVENT_FORMATS] = Field(  # type: ignore[valid-type]
        "exotel", description="shape of the events delivered to conference_event_endpoint"
    )
    record: bool = Field(False, description="record the mix; conference_recording_completed gives its URL")
    max_participants: int = Field(50, ge=2, le=MAX_PARTICIPANTS, description="most legs in it at once")
    end_when_empty: bool = Field(True, description="complete it when the last participant leaves")
    reference_leg_sid: str | None = Field(
        None, min_length=1, max_length=64,
        description="a live leg that will join: on a cluster the conference is made on that leg's node "
        "(legs of one conference must be co-located)",
    )


class AddParticipant(BaseModel):
    """Body of `POST .../conferences/{conference_sid}/participants`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    leg_sid: str = Field(min_length=1, max_length=64, description="a connected leg of the account")
    muted: bool = Field(False, description="joins muted: hears, is not heard")
    hold: bool = Field(False, description="joins on hold: hears nothing, is not heard")
    role: Literal["participant", "coach", "listener"] = Field(
        "participant",
        description="participant: heard by all; coach: heard only by coach_leg_sid; listener: never heard",
    )
    coach_leg_sid: str | None = Field(
        None, min_length=1, max_length=64, description="for role coach: the participant it coaches (whispers to)"
    )
    beep: Literal[BEEPS] = Field(  # type: ignore[valid-type]
        "false",
        description="a tone the conference hears when this leg joins and/or leaves: true, false, onEnter, onExit "
        "(as Twilio's; false here by default)",
    )
    wait_url: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="a WAV (a file or URL `play` may use) played in a loop to the leg while it is on hold in the "
        "conference (joining with hold, or put on hold), until unhold or it leaves",
    )


class ParticipantAction(BaseModel):
    """Body of `POST .../participants/{leg_sid}/actions`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["mute", "unmute", "hold", "unhold", "remove"]


class ConferenceAction(BaseModel):
    """Body of `POST .../conferences/{conference_sid}/actions`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    action: Literal["stop"]


class ConferenceService:
    """Everything an application can do with conferences."""

    def __init__(
        self,
        conferences: ConferenceRepository,
        legs: LegRepository,
        engine: Conferences,
        clock: Clock,
        writer: Writer,
        endpoints: EndpointPolicy | None = None,
        waits: ConferenceWaits | None = None,
    ) -> None:
        self.conferences = conferences
        self.legs = legs
        self.engine = engine
        self.clock = clock
        self.writer = writer
        self.endpoints = endpoints or EndpointPolicy(allow_loopback=True)
        self.waits = waits  # participants' wait_url (none: a wait_url is refused)
        if waits is not None:
            engine.on_leave.append(waits.left)

    async def create(
        self, account: Account, request: CreateConference, status_callback: dict[str, Any] | None = None
    ) -> Conference:
        """A new conference; `status_callback` (a call flow's <Conference statusCallback>: `events`, `method`)
        makes its events Twilio's conference callbacks to `conference_event_endpoint` (event_format "twilio")."""
        if request.conference_event_endpoint is not None:
            await check_event_endpoint(self.endpoints, request.conference_event_endpoint, "conference_event_endpoint")
        if request.reference_leg_sid is not None and await self.legs.get(account.account_sid,
                                                                         request.reference_leg_sid) is None:
            raise NotFound(f"no such leg {request.reference_leg_sid}", field="reference_leg_sid")
        settings = NewConference(
            request.name,
            request.conference_event_endpoint,
            TWILIO if status_callback else None if request.event_format == formats.DEFAULT else request.event_format,
            request.record,
            request.max_participants,
            request.end_when_empty,
            status_callback,
        )
        conference, durable = self.engine.create(account.account_sid, settings)
        await durable
        return conference

    def active_named(self, account: Account, name: str) -> Conference | None:
        """The account's active conference with this name (a call flow's <Conference>NAME</Conference>)."""
        return self.engine.named(account.account_sid, name)

    async def get(self, account: Account, conference_sid: str) -> Conference:
        live = self.engine.live(account.account_sid, conference_sid)
        if live is not None:
            return live
        row = await self.conferences.get(account.account_sid, conference_sid)
        if row is None:
            raise NotFound("no such conference", field="conference_sid")
        return conference_from_row(row)

    async def recent(self, account: Account, limit: int = 50, state: str | None = None) -> list[Conference]:
        """The account's newest conferences, live ones as the engine has them now."""
        found = [conference_from_row(r) for r in await self.conferences.recent(account.account_sid, limit, state)]
        return [self.engine.live(account.account_sid, c.conference_sid) or c for c in found]

    async def _live(self, account: Account, conference_sid: str) -> Conference:
        conference = await self.get(account, conference_sid)
        if self.engine.live(account.account_sid, conference_sid) is None:
            raise Conflict(f"conference is {conference.state} ({conference.end_reason})", field="conference_sid")
        return conference

    async def add(
        self,
        account: Account,
        conference_sid: str,
        request: AddParticipant,
        *,
        start_on_enter: bool = True,
        end_on_exit: bool = False,
    ) -> Conference:
        """Join a leg: 404 for legs the account does not have, 409 when it cannot join, 400 for bad roles or a
        wait_url `play` could not play. `start_on_enter`, `end_on_exit`: a call flow's startConferenceOnEnter and
        endConferenceOnExit."""
        role = Role(request.role)
        if (role is Role.COACH) != (request.coach_leg_sid is not None):
            raise ValidationFailed(
                "coach_leg_sid is required for role coach and only allowed for it", field="coach_leg_sid"
            )
        if request.coach_leg_sid == request.leg_sid:
            raise ValidationFailed("coach_leg_sid must name another leg than leg_sid", field="coach_leg_sid")
        conference = await self._live(account, conference_sid)
        live = self.engine.switchboard.get(request.leg_sid)
        if live is None or live.account_sid != account.account_sid:
            leg = await self.legs.get(account.account_sid, request.leg_sid)
            if leg is None:
                raise NotFound(f"no such leg {request.leg_sid}", field="leg_sid")
            if leg.is_terminal:
                raise Conflict(
                    f"leg {request.leg_sid} is terminal ({leg.terminal_status}); only connected legs can join",
                    field="leg_sid",
                )
            raise Conflict(
                f"leg {request.leg_sid} is not on this node's media engine; legs of one conference must be co-located",
                field="leg_sid",
            )
        if request.wait_url is not None:
            if self.waits is None:
                raise ValidationFailed("this server plays no wait audio", field="wait_url")
            await self.waits.check(request.wait_url)
        await self.engine.add(
            conference,
            request.leg_sid,
            role,
            muted=request.muted,
            hold=request.hold,
            coach_leg_sid=request.coach_leg_sid,
            start_on_enter=start_on_enter,
            end_on_exit=end_on_exit,
            beep=request.beep,
        )
        if self.waits is not None and request.wait_url is not None:
            await self.waits.joined(account, request.leg_sid, request.wait_url, request.hold)
        return conference

    async def act_on_participant(
        self, account: Account, conference_sid: str, leg_sid: str, action: ParticipantAction
    ) -> Conference:
        conference = await self._live(account, conference_sid)
        if conference.member(leg_sid) is None:
            raise NotFound(f"leg {leg_sid} is not a participant of this conference", field="leg_sid")
        await self.engine.act(conference, leg_sid, action.action)
        if self.waits is not None and action.action in ("hold", "unhold"):
            await self.waits.held(leg_sid, action.action == "hold")
        return conference

    async def act(self, account: Account, conference_sid: str, action: ConferenceAction) -> Conference:
        conference = await self._live(account, conference_sid)
        await self.engine.stop(conference)
        return conference

    async def events(self, account: Account, conference_sid: str) -> list[dict[str, Any]]:
        await self.get(account, conference_sid)
        return await self.conferences.events(conference_sid)

    async def reconcile(self, owner: str, cause: str = "platform_restart") -> int:
        """Complete conferences left active by node `owner`, which is gone (its legs were ended the same way)."""
        return await self.end_rows(await self.conferences.active(owner), cause)

    async def end_rows(self, rows: list[dict[str, Any]], cause: str) -> int:
        """Complete these active conferences (rows a gone node left): participant_left for each member still
        in, then conference_completed."""
        futures = []
        for row in rows:
            conference = conference_from_row(row)
            now = self.clock.now()
            events = []
            for member in conference.members:
                conference.leave(member.leg_sid, now, cause)
                events.append(
                    conference_event(conference, "participant_left", now, leg_sid=member.leg_sid, reason=cause)
                )
            conference.end(now, cause)
            events.append(conference_event(conference, "conference_completed", now, reason=cause))
            futures.append(
                self.writer.submit_conference(
                    conference_to_row(conference), events, endpoint=conference.conference_event_endpoint
                )
            )
        for future in futures:
            await future
        return len(futures)


__all__ = [
    "AddParticipant",
    "ConferenceAction",
    "ConferenceService",
    "ConferenceState",
    "CreateConference",
    "ParticipantAction",
]
