"""A conference participant's wait audio (`wait_url` of `POST .../participants`): a WAV played in a loop to the leg
while it is on hold in the conference, through the leg's own `play` and `stop_play` actions.

It starts when the leg joins on hold or is put on hold, and stops when it is taken off hold or leaves the conference
(removed, stopped, transferred: its leg stays up and must not go on hearing it). The URL follows `play`'s rules
(app/prompts.py: allowed folders and URL prefixes, fetched through the endpoint policy) and is checked before the
leg joins, so a refused one is a 400 and the leg stays out.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from legato.app.leg_requests import LegAction
from legato.domain.account import Account
from legato.domain.conference import Conference
from legato.domain.errors import LegatoError, ValidationFailed

if TYPE_CHECKING:
    from legato.app.legs import LegService

log = logging.getLogger(__name__)


class ConferenceWaits:
    """The wait audio of every participant that has one: its URL while it is a member, whether it plays."""

    def __init__(self, legs: LegService) -> None:
        self.legs = legs
        self.urls: dict[str, tuple[Account, str]] = {}  # leg_sid -> (its account, wait_url) while a member
        self.playing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def check(self, url: str) -> None:
        """400 (field wait_url) unless `play` could play it (fetched now into the prompt cache)."""
        try:
            await self.legs.prompts.resolve(url)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message.replace("url", "wait_url", 1), field="wait_url") from None

    async def joined(self, account: Account, leg_sid: str, url: str, hold: bool) -> None:
        """The leg joined with this wait audio; it plays now when the leg is on hold."""
        self.urls[leg_sid] = (account, url)
        if hold:
            await self.held(leg_sid, True)

    async def held(self, leg_sid: str, hold: bool) -> None:
        """The leg was put on hold (its wait audio plays, looped) or taken off (it stops)."""
        found = self.urls.get(leg_sid)
        if found is None or hold == (leg_sid in self.playing):
            return
        account, url = found
        fields = {"action": "play", "url": url, "loop": 0} if hold else {"action": "stop_play"}
        action = LegAction.model_validate(fields)
        (self.playing.add if hold else self.playing.discard)(leg_sid)
        try:
            await self.legs.act_with_result(account, leg_sid, action)
        except LegatoError as exc:  # the leg ended or left meanwhile
            log.info("conference wait audio not changed leg_sid=%s reason=%s", leg_sid, exc.message)
            self.playing.discard(leg_sid)

    def left(self, conference: Conference, leg_sid: str, reason: str) -> None:
        """Conferences.on_leave: the leg left; its wait audio stops (its leg may stay up)."""
        if self.urls.get(leg_sid) is None:
            return
        task = asyncio.get_running_loop().create_task(self._stop(leg_sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop(self, leg_sid: str) -> None:
        await self.held(leg_sid, False)
        self.urls.pop(leg_sid, None)
