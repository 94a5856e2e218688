"""Conferences: legs mixed so each hears the others, with roles, mute and hold. Active, then completed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from legato.domain.errors import Conflict

CONFERENCE_EVENT = "conference_lifecycle_event"
MAX_PARTICIPANTS = 250  # the most one conference may be created for (one media process mixes it)
BEEPS = ("true", "false", "onEnter", "onExit")  # Twilio's <Conference beep>: a tone when the leg enters/exits


def beeps(beep: str, kind: str) -> bool:
    """Whether a participant's `beep` (one of BEEPS) plays the conference's tone when it does `kind` (enter, exit)."""
    return beep == "true" or beep == ("onEnter" if kind == "enter" else "onExit")


class ConferenceState(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class Role(StrEnum):
    PARTICIPANT = "participant"  # hears the others, heard by all
    COACH = "coach"  # hears the others, heard only by the leg it coaches (whisper)
    LISTENER = "listener"  # hears the others, never heard


@dataclass(slots=True)
class Participant:
    """One leg in a conference; `date_left` set once it has left (a leg joins a conference once)."""

    leg_sid: str
    role: Role
    muted: bool
    hold: bool
    coach_leg_sid: str | None
    date_joined: datetime
    date_left: datetime | None = None
    left_reason: str | None = None
    start_on_enter: bool = True  # TwiML startConferenceOnEnter (API participants start a conference)
    end_on_exit: bool = False  # TwiML endConferenceOnExit

    @property
    def present(self) -> bool:
        return self.date_left is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "leg_sid": self.leg_sid,
            "role": self.role.value,
            "muted": self.muted,
            "hold": self.hold,
            "coach_leg_sid": self.coach_leg_sid,
            "date_joined": self.date_joined,
            "date_left": self.date_left,
            "left_reason": self.left_reason,
            "start_on_enter": self.start_on_enter,
            "end_on_exit": self.end_on_exit,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Participant:
        return cls(
            d["leg_sid"],
            Role(d["role"]),
            d["muted"],
            d["hold"],
            d["coach_leg_sid"],
            d["date_joined"],
            d.get("date_left"),
            d.get("left_reason"),
            d.get("start_on_enter", True),
            d.get("end_on_exit", False),
        )


@dataclass(slots=True)
class Conference:
    """One conference. Only `end` makes it completed; participants join and leave while it is active."""

    conference_sid: str
    account_sid: str
    name: str
    conference_event_endpoint: str | None
    event_format: str | None
    record: bool
    max_participants: int
    end_when_empty: bool
    date_created: datetime
    dc_code: str | None = None  # where its legs are (the first participant decides)
    participants: list[Participant] = field(default_factory=list)
    state: ConferenceState = ConferenceState.ACTIVE
    end_reason: str | None = None
    date_updated: datetime | None = None
    end_time: datetime | None = None
    recording_url: str | None = None
    event_sequence: int = 0
    # TwiML <Conference statusCallback>: {"events": [...], "method": "POST"|"GET"} (Twilio-shaped callbacks)
    status_callback: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.date_updated is None:
            self.date_updated = self.date_created

    @property
    def members(self) -> list[Participant]:
        """Participants present now, in joining order."""
        return [p for p in self.participants if p.present]

    def member(self, leg_sid: str) -> Participant | None:
        return next((p for p in self.participants if p.leg_sid == leg_sid and p.present), None)

    def join(self, participant: Participant) -> None:
        """Add a participant; Conflict says why not (ended, full, bad coach target)."""
        if self.state is ConferenceState.COMPLETED:
            raise Conflict(f"conference is completed ({self.end_reason}); nobody can join", field="conference_sid")
        if len(self.members) >= self.max_participants:
            raise Conflict(f"conference is full (max_participants {self.max_participants})", field="leg_sid")
        if participant.role is Role.COACH:
            target = self.member(participant.coach_leg_sid or "")
            if target is None:
                raise Conflict(
                    f"coach_leg_sid {participant.coach_leg_sid} is not in this conference", field="coach_leg_sid"
                )
        self.participants.append(participant)
        self.date_updated = participant.date_joined

    def leave(self, leg_sid: str, now: datetime, reason: str) -> Participant:
        member = self.member(leg_sid)
        if member is None:
            raise Conflict(f"leg {leg_sid} is not in this conference", field="leg_sid")
        member.date_left = self.date_updated = now
        member.left_reason = reason
        return member

    @property
    def started(self) -> bool:
        """Twilio's conference-start has happened: a participant that starts the conference has joined."""
        return any(p.start_on_enter for p in self.participants)

    @property
    def empty_after_use(self) -> bool:
        """True once someone joined and nobody is left (end_when_empty ends it then)."""
        return bool(self.participants) and not self.members

    def end(self, now: datetime, reason: str) -> None:
        """Complete the conference (once); its members must have left first."""
        if self.state is ConferenceState.COMPLETED:
            raise Conflict("conference is already completed", field="conference_sid")
        self.state = ConferenceState.COMPLETED
        self.end_reason = reason
        self.end_time = self.date_updated = now
