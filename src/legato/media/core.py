"""The media engine's core: channels by leg id, the port pool, and one handler per command.

Transport-free: `MediaCore.handle(owner, command, args)` returns a result dict or raises MediaError;
notifications go to `emit(owner, MediaNotification)`. The control server puts JSON lines around it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from legato.media import base, commands
from legato.media.amd_params import AmdParams
from legato.media.channel import Channel
from legato.media.conference import ConferenceMix
from legato.media.gather import SpeechOptions
from legato.media.mixer import MixMember
from legato.media.ports import PortPool
from legato.media.speech import SpeechError, synthesize_async
from legato.media.stream.core import build_stream
from legato.media.stream.socket import Target
from legato.media.telephone_event import DIGITS
from legato.media.wavfile import AudioFileError, read_pcm
from legato.speech import Recogniser, SpeechInputError, check_language, make_recogniser, normalise_hints

log = logging.getLogger(__name__)
LEG_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

Emit = Callable[[object, base.MediaNotification], None]
Handler = Callable[[object, Any], Awaitable[dict[str, Any]]]


class MediaCore:
    """Holds every leg's channel; `handlers` maps each command class (media/commands.py) to its coroutine."""

    def __init__(self, ports: PortPool, bind_host: str, advertise: str, emit: Emit,
                 recordings_dir: Path, cache_dir: Path, speech_engine: str = "pocketsphinx") -> None:
        self.ports = ports
        self.speech_engine = speech_engine
        self._recogniser: Recogniser | None = None  # made on first use (its worker process starts then)
        self.bind_host = bind_host
        self.advertise = advertise
        self.emit = emit
        self.recordings_dir = recordings_dir
        self.cache_dir = cache_dir
        self.channels: dict[str, Channel] = {}
        self.owners: dict[str, object] = {}
        self.conferences: dict[str, ConferenceMix] = {}
        self.conference_owners: dict[str, object] = {}
        self.loop = asyncio.get_running_loop()
        self.handlers: dict[type[commands.Command], Handler] = {
            commands.Ping: self.cmd_ping, commands.Allocate: self.cmd_allocate,
            commands.SetRemote: self.cmd_set_remote, commands.Release: self.cmd_release,
            commands.Bridge: self.cmd_bridge, commands.Unbridge: self.cmd_unbridge, commands.Play: self.cmd_play,
            commands.Say: self.cmd_say, commands.StopPlay: self.cmd_stop_play,
            commands.StartRecording: self.cmd_start_recording, commands.StopRecording: self.cmd_stop_recording,
            commands.Gather: self.cmd_gather, commands.SendDigits: self.cmd_send_digits,
            commands.Mute: self.cmd_mute, commands.Unmute: self.cmd_mute, commands.Hold: self.cmd_hold,
            commands.Unhold: self.cmd_hold, commands.StartAmd: self.cmd_start_amd,
            commands.ConferenceSet: self.cmd_conference_set, commands.ConferenceEnd: self.cmd_conference_end,
            commands.ConferenceBeep: self.cmd_conference_beep,
            commands.StartStream: self.cmd_start_stream, commands.StopStream: self.cmd_stop_stream}

    async def handle(self, owner: object, command: str, args: dict[str, Any]) -> dict[str, Any]:
        """Run one command; a TypeError inside a handler is a bug, not a bad request."""
        try:
            cmd = commands.parse(command, args)
        except ValueError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        return await self.handlers[type(cmd)](owner, cmd)

    def _channel(self, leg_id: str) -> Channel:
        channel = self.channels.get(leg_id)
        if channel is None:
            raise base.MediaError("unknown_leg", f"no media for leg {leg_id!r}")
        return channel

    def release_owned(self, owner: object) -> None:
        """The control connection went away: free every leg it held."""
        for leg_id in [leg for leg, o in self.owners.items() if o is owner]:
            self._release(leg_id, "released")
        for conference_id in [c for c, o in self.conference_owners.items() if o is owner]:
            self.conference_owners.pop(conference_id)
            self.loop.create_task(self.conferences.pop(conference_id).end())

    def _release(self, leg_id: str, reason: str) -> tuple[Channel, dict[str, Any]] | None:
        channel = self.channels.pop(leg_id, None)
        self.owners.pop(leg_id, None)
        if channel is None:
            return None
        try:
            stats = channel.close(reason)
        finally:
            self.ports.give_back(channel.port)
        return channel, stats.to_dict()

    # ---- commands -------------------------------------------------------------------------
    async def cmd_ping(self, owner: object, cmd: commands.Ping) -> dict[str, Any]:
        return {"legs": len(self.channels), "ports_free": self.ports.available}

    async def cmd_allocate(self, owner: object, cmd: commands.Allocate) -> dict[str, Any]:
        leg_id = cmd.leg_id
        if not isinstance(leg_id, str) or not LEG_ID.match(leg_id) or leg_id.startswith("."):
            raise base.MediaError("bad_request", "leg_id must be 1-100 characters of A-Z a-z 0-9 _ . -")
        if leg_id in self.channels:
            raise base.MediaError("conflict", f"leg {leg_id!r} already has media")
        for _ in range(self.ports.candidates()):
            port = self.ports.take()
            if port is None:
                break
            channel = Channel(leg_id, port, self._notifier(leg_id), self.loop, self.recogniser)
            try:
                await channel.open(self.bind_host)
            except OSError:
                self.ports.give_back(port)  # taken by another process: try the next one
                continue
            channel.core.always_inband = cmd.inband_dtmf
            self.channels[leg_id] = channel
            self.owners[leg_id] = owner
            return base.Allocation(leg_id, self.advertise, port, port + 1).to_dict()
        raise base.MediaError("no_ports", f"no free RTP port ({self.ports.size} in the range, all in use)")

    def recogniser(self) -> Recogniser:
        """The speech engine, started on first use."""
        if self._recogniser is None:
            self._recogniser = make_recogniser(self.speech_engine)
        return self._recogniser

    def _notifier(self, leg_id: str) -> Callable[[str, dict[str, Any]], None]:
        def notify(name: str, data: dict[str, Any]) -> None:
            self.emit(self.owners.get(leg_id), base.MediaNotification(name, leg_id, data))
        return notify

    async def cmd_set_remote(self, owner: object, cmd: commands.SetRemote) -> dict[str, Any]:
        if not 0 < int(cmd.port) < 65536:
            raise base.MediaError("bad_request", "port out of range")
        self._channel(cmd.leg_id).set_remote(cmd.address, int(cmd.port), int(cmd.payload_type),
                                             cmd.telephone_event_pt)
        return {}

    async def cmd_release(self, owner: object, cmd: commands.Release) -> dict[str, Any]:
        released = self._release(cmd.leg_id, "released")
        if released is None:
            raise base.MediaError("unknown_leg", f"no media for leg {cmd.leg_id!r}")
        channel, stats = released
        await channel.streams_closed()  # each stream's stop went out before the answer
        await channel.written()  # a recording it ended is on disk before the answer
        return {"stats": stats}

    async def cmd_bridge(self, owner: object, cmd: commands.Bridge) -> dict[str, Any]:
        a, b = self._channel(cmd.leg_a), self._channel(cmd.leg_b)
        if a is b:
            raise base.MediaError("bad_request", "cannot bridge a leg with itself")
        if (a.peer not in (None, b)) or (b.peer not in (None, a)):
            raise base.MediaError("conflict", "a leg is already bridged elsewhere")
        a.bridge(b)
        return {}

    async def cmd_unbridge(self, owner: object, cmd: commands.Unbridge) -> dict[str, Any]:
        self._channel(cmd.leg_id).unbridge()
        return {}

    async def cmd_play(self, owner: object, cmd: commands.Play) -> dict[str, Any]:
        channel = self._channel(cmd.leg_id)
        if not isinstance(cmd.loop, int) or not 0 <= cmd.loop <= 1000:
            raise base.MediaError("bad_request", "loop must be 0..1000 (0 = until stopped)")
        try:
            pcm = await asyncio.to_thread(read_pcm, cmd.path)
        except AudioFileError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        return {"play_id": channel.play(pcm, cmd.loop)}

    async def cmd_say(self, owner: object, cmd: commands.Say) -> dict[str, Any]:
        self._channel(cmd.leg_id)
        try:
            path = await synthesize_async(cmd.text, self.cache_dir, cmd.voice, int(cmd.rate))
        except (SpeechError, TimeoutError) as exc:
            raise base.MediaError("bad_request", f"say failed: {exc}") from exc
        pcm = await asyncio.to_thread(read_pcm, path)
        channel = self._channel(cmd.leg_id)  # the leg may have gone while we spoke
        return {"play_id": channel.play(pcm, cmd.loop), "path": str(path)}

    async def cmd_stop_play(self, owner: object, cmd: commands.StopPlay) -> dict[str, Any]:
        self._channel(cmd.leg_id).stop_play("stopped")
        return {}

    async def cmd_start_recording(self, owner: object, cmd: commands.StartRecording) -> dict[str, Any]:
        channel = self._channel(cmd.leg_id)
        if cmd.direction not in ("in", "out", "both"):
            raise base.MediaError("bad_request", "direction must be in, out or both")
        target = self._recordings_folder(cmd.folder)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = target / f"{cmd.leg_id}-{stamp}-{secrets.token_hex(3)}.wav"
        rec_id = channel.start_recording(path, cmd.direction, bool(cmd.transcribe), bool(cmd.beep))
        if cmd.transcribe:
            self.recogniser().prepare()
        return {"recording_id": rec_id, "path": str(path)}

    def _recordings_folder(self, folder: str | None) -> Path:
        root = self.recordings_dir.resolve()
        target = (root / folder).resolve() if folder else root
        if target != root and root not in target.parents:
            raise base.MediaError("bad_request", "folder must be inside the recordings directory")
        return target

    async def cmd_stop_recording(self, owner: object, cmd: commands.StopRecording) -> dict[str, Any]:
        return await self._channel(cmd.leg_id).stop_recording("stopped")

    async def cmd_gather(self, owner: object, cmd: commands.Gather) -> dict[str, Any]:
        channel = self._channel(cmd.leg_id)
        speech = None
        if "speech" in str(cmd.input):
            speech = self._speech_options(cmd.speech or {})
            self.recogniser().prepare()  # its worker starts while the caller speaks
        silence = cmd.silence_timeout
        if silence is not None and (not isinstance(silence, int | float) or not 0 < silence <= 600):
            raise base.MediaError("bad_request", "silence_timeout must be within (0, 600] seconds")
        channel.start_gather(
            cmd.num_digits, float(cmd.timeout), cmd.finish_on_key, str(cmd.input), speech,
            None if silence is None else float(silence))
        return {}

    def _speech_options(self, args: dict[str, Any]) -> SpeechOptions:
        timeout, language = args.get("speech_timeout"), str(args.get("language") or "en-US")
        if timeout is not None and not isinstance(timeout, int | float):
            raise base.MediaError("bad_request", "speech_timeout must be seconds or null (auto)")
        if not check_language(language, self.speech_engine):
            raise base.MediaError("bad_request", f"language {language!r} is not supported by {self.speech_engine}")
        try:
            hints = normalise_hints(args.get("hints"))
        except SpeechInputError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        return SpeechOptions(None if timeout is None else float(timeout), hints, language)

    async def cmd_send_digits(self, owner: object, cmd: commands.SendDigits) -> dict[str, Any]:
        channel, digits = self._channel(cmd.leg_id), cmd.digits
        if not digits or any(d.upper() not in DIGITS for d in digits):
            raise base.MediaError("bad_request", "digits must be 0-9, *, #, A-D")
        if not 40 <= cmd.duration_ms <= 5000:
            raise base.MediaError("bad_request", "duration_ms must be 40..5000")
        if channel.core.te_pt is None:
            raise base.MediaError("conflict", "the far end did not offer telephone-event")
        channel.send_digits(digits, cmd.duration_ms)
        return {}

    async def cmd_mute(self, owner: object, cmd: commands.Mute | commands.Unmute) -> dict[str, Any]:
        self._channel(cmd.leg_id).core.muted = isinstance(cmd, commands.Mute)
        return {}

    async def cmd_hold(self, owner: object, cmd: commands.Hold | commands.Unhold) -> dict[str, Any]:
        self._channel(cmd.leg_id).core.held = isinstance(cmd, commands.Hold)
        return {}

    async def cmd_start_amd(self, owner: object, cmd: commands.StartAmd) -> dict[str, Any]:
        channel = self._channel(cmd.leg_id)
        try:
            amd_params = AmdParams.from_dict(cmd.params)
        except (TypeError, ValueError) as exc:
            raise base.MediaError("bad_request", f"bad AMD parameters: {exc}") from exc
        if amd_params.words_ms:
            self.recogniser().prepare()  # its worker starts while the greeting begins (amd_words.py)
        channel.start_amd(amd_params)
        return {}

    async def cmd_conference_set(self, owner: object, cmd: commands.ConferenceSet) -> dict[str, Any]:
        if not LEG_ID.match(cmd.conference_id) or cmd.conference_id.startswith("."):
            raise base.MediaError("bad_request", "conference_id must be 1-100 characters of A-Z a-z 0-9 _ . -")
        try:
            members = [MixMember(**m) for m in cmd.members]
        except TypeError as exc:
            raise base.MediaError("bad_request", f"bad conference member: {exc}") from exc
        mix = self.conferences.get(cmd.conference_id)
        if mix is None:
            path = None
            if cmd.record_folder is not None:
                path = self._recordings_folder(cmd.record_folder) / f"{cmd.conference_id}.wav"
            mix = self.conferences[cmd.conference_id] = ConferenceMix(cmd.conference_id, self.loop,
                                                                      self.channels.get, path)
            self.conference_owners[cmd.conference_id] = owner
        mix.set_members(members)
        return {"members": len(members)}

    async def cmd_conference_end(self, owner: object, cmd: commands.ConferenceEnd) -> dict[str, Any]:
        mix = self.conferences.pop(cmd.conference_id, None)
        self.conference_owners.pop(cmd.conference_id, None)
        if mix is None:
            raise base.MediaError("unknown_conference", f"no conference {cmd.conference_id!r}")
        return await mix.end()

    async def cmd_conference_beep(self, owner: object, cmd: commands.ConferenceBeep) -> dict[str, Any]:
        mix = self.conferences.get(cmd.conference_id)
        if mix is None:
            raise base.MediaError("unknown_conference", f"no conference {cmd.conference_id!r}")
        try:
            mix.beep(cmd.kind)
        except ValueError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        return {}

    async def cmd_start_stream(self, owner: object, cmd: commands.StartStream) -> dict[str, Any]:
        channel = self._channel(cmd.leg_id)
        try:
            stream = build_stream(cmd)
        except ValueError as exc:
            raise base.MediaError("bad_request", str(exc)) from exc
        channel.start_stream(stream, Target(cmd.url, cmd.address, dict(cmd.headers or {})))
        return {"stream_sid": cmd.stream_sid}

    async def cmd_stop_stream(self, owner: object, cmd: commands.StopStream) -> dict[str, Any]:
        self._channel(cmd.leg_id).stop_stream(cmd.stream_sid)
        return {}

    async def close(self) -> None:
        """Release every leg and wait for the recordings they (and the conferences) ended to be written."""
        for conference_id in list(self.conferences):
            await self.conferences.pop(conference_id).end()
        released = [self._release(leg_id, "released") for leg_id in list(self.channels)]
        for item in released:
            if item is not None:
                await item[0].written()
        if self._recogniser is not None:
            await self._recogniser.close()
