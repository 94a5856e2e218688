"""startConferenceOnEnter's state, kept by the flow host for every <Dial><Conference> of this process."""

from __future__ import annotations

from legato.domain.conference import Conference


class ConferenceStarts:
    """startConferenceOnEnter: the conferences a starting participant joined, and who waits (held) for one."""

    def __init__(self) -> None:
        self.started: set[str] = set()
        self.waiting: dict[str, set[str]] = {}

    def has_started(self, conference: Conference) -> bool:
        """Started once a starter joined; a conference with a member that is not waiting (joined through the API,
        or after the start) has started too."""
        waiting = self.waiting.get(conference.conference_sid, set())
        return conference.conference_sid in self.started or any(m.leg_sid not in waiting for m in conference.members)

    def wait(self, conference_sid: str, leg_sid: str) -> None:
        self.waiting.setdefault(conference_sid, set()).add(leg_sid)

    def start(self, conference_sid: str) -> set[str]:
        """The conference starts: the legs waiting for it (to take off hold)."""
        self.started.add(conference_sid)
        return self.waiting.pop(conference_sid, set())

    def left(self, conference: Conference, leg_sid: str) -> None:
        self.waiting.get(conference.conference_sid, set()).discard(leg_sid)
        if not conference.members:
            self.started.discard(conference.conference_sid)
            self.waiting.pop(conference.conference_sid, None)
