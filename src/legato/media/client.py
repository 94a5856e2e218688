"""An asyncio client of the media engine process: the `MediaEngine` interface over JSON lines.

    client = MediaClient("127.0.0.1", 7070)
    await client.start(on_notification)
    alloc = await client.allocate("LG1")          # -> Allocation (port for the SDP)
    await client.set_remote("LG1", "203.0.113.5", 40000, 0)
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from legato.media import commands
from legato.media.amd_params import AmdParams
from legato.media.base import Allocation, MediaError, MediaNotification, NotificationSink, RecordDirection
from legato.media.control import MAX_LINE, encode
from legato.media.rtcp import ReceiverStats


class MediaClient:
    """Talks to `python -m legato.media.server`; implements legato.media.base.MediaEngine."""

    def __init__(self, host: str = "127.0.0.1", port: int = 7070, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._notify: NotificationSink = lambda note: None
        self._read_task: asyncio.Task[None] | None = None

    async def start(self, notify: NotificationSink) -> None:
        self._notify = notify
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=MAX_LINE)
        self._read_task = asyncio.create_task(self._read_loop())

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except ConnectionError:
                pass
        if self._read_task is not None:
            self._read_task.cancel()
            try:
                await self._read_task
            except asyncio.CancelledError:
                pass
        self._fail_pending("client closed")

    def _fail_pending(self, why: str) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(MediaError("disconnected", why))
        self._pending.clear()

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                message = json.loads(line)
                if "event" in message:
                    data = message.get("data") or {}
                    self._notify(MediaNotification(message["event"], message["leg_id"], data))
                    continue
                fut = self._pending.pop(message.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(message)
        except (ConnectionError, json.JSONDecodeError):
            pass
        finally:
            self._fail_pending("media engine connection lost")

    async def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send one command and wait for its result; raises MediaError on failure."""
        if self._writer is None or self._writer.is_closing():
            raise MediaError("disconnected", "not connected to the media engine")
        req_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = fut
        self._writer.write(encode({"id": req_id, "cmd": cmd, "args": args}))
        await self._writer.drain()
        try:
            reply = await asyncio.wait_for(fut, self.timeout)
        except TimeoutError as exc:
            self._pending.pop(req_id, None)
            raise MediaError("timeout", f"{cmd} got no answer in {self.timeout}s") from exc
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise MediaError(err.get("code", "failed"), err.get("message", ""))
        return reply.get("result") or {}

    async def send(self, command: commands.Command) -> dict[str, Any]:
        """Send one declared command (media/commands.py) and wait for its result."""
        return await self.call(command.name, **command.args())

    # ---- MediaEngine ------------------------------------------------------------------------
    async def allocate(self, leg_id: str, inband_dtmf: bool = False) -> Allocation:
        return Allocation.from_dict(await self.send(commands.Allocate(leg_id, inband_dtmf)))

    async def set_remote(self, leg_id: str, address: str, port: int, payload_type: int,
                         telephone_event_pt: int | None = 101) -> None:
        await self.send(commands.SetRemote(leg_id, address, port, payload_type, telephone_event_pt))

    async def release(self, leg_id: str) -> ReceiverStats | None:
        stats = (await self.send(commands.Release(leg_id))).get("stats")
        return ReceiverStats(**stats) if stats else None

    async def bridge(self, leg_a: str, leg_b: str) -> None:
        await self.send(commands.Bridge(leg_a, leg_b))

    async def unbridge(self, leg_id: str) -> None:
        await self.send(commands.Unbridge(leg_id))

    async def conference_set(self, conference_id: str, members: list[dict[str, Any]],
                             record_folder: str | None = None) -> None:
        await self.send(commands.ConferenceSet(conference_id, members, record_folder))

    async def conference_end(self, conference_id: str) -> dict[str, Any]:
        return await self.send(commands.ConferenceEnd(conference_id))

    async def conference_beep(self, conference_id: str, kind: str) -> None:
        await self.send(commands.ConferenceBeep(conference_id, kind))

    async def play(self, leg_id: str, path: str, loop: int = 1) -> str:
        return (await self.send(commands.Play(leg_id, path, loop)))["play_id"]

    async def say(self, leg_id: str, text: str, voice: str = "en-us", rate: int = 160) -> str:
        return (await self.send(commands.Say(leg_id, text, voice, rate)))["play_id"]

    async def stop_play(self, leg_id: str) -> None:
        await self.send(commands.StopPlay(leg_id))

    async def start_recording(self, leg_id: str, direction: RecordDirection = "both",
                              folder: str | None = None, transcribe: bool = False,
                              beep: bool = False) -> dict[str, Any]:
        return await self.send(commands.StartRecording(leg_id, direction, folder, transcribe, beep))

    async def stop_recording(self, leg_id: str) -> dict[str, Any]:
        return await self.send(commands.StopRecording(leg_id))

    async def gather(self, leg_id: str, num_digits: int | None = None, timeout: float = 5.0,  # noqa: ASYNC109
                     finish_on_key: str | None = "#", input: str = "dtmf",
                     speech: dict[str, Any] | None = None, silence_timeout: float | None = None) -> None:
        await self.send(commands.Gather(leg_id, num_digits, timeout, finish_on_key, input, speech, silence_timeout))

    async def send_digits(self, leg_id: str, digits: str, duration_ms: int = 100) -> None:
        await self.send(commands.SendDigits(leg_id, digits, duration_ms))

    async def mute(self, leg_id: str) -> None:
        await self.send(commands.Mute(leg_id))

    async def unmute(self, leg_id: str) -> None:
        await self.send(commands.Unmute(leg_id))

    async def hold(self, leg_id: str) -> None:
        await self.send(commands.Hold(leg_id))

    async def unhold(self, leg_id: str) -> None:
        await self.send(commands.Unhold(leg_id))

    async def start_amd(self, leg_id: str, params: AmdParams | None = None) -> None:
        await self.send(commands.StartAmd(leg_id, params.to_dict() if params else None))

    async def start_stream(self, leg_id: str, spec: dict[str, Any]) -> None:
        await self.send(commands.StartStream(leg_id, **spec))

    async def stop_stream(self, leg_id: str, stream_sid: str) -> None:
        await self.send(commands.StopStream(leg_id, stream_sid))
