"""Twilio-style call status callbacks (`status_callback`, `status_callback_event`) for legs that ask for them, and
the callbacks of verbs that outlive their verb (`<Record transcribeCallback>`, `<Stream statusCallback>`).

Form-encoded as Twilio sends them (the call's parameters plus CallbackSource, SequenceNumber, Timestamp,
and CallDuration when completed), signed like flow requests, in order per leg, each tried as Twilio
tries a callback (a connection failure is retried once); a failure is logged, not retried further.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from email.utils import format_datetime
from typing import Any

from legato.domain.events import LegEvent
from legato.domain.leg import FLOW_KEY, Leg
from legato.flows.fetch import Fetcher
from legato.flows.params import call_params, recording_params
from legato.flows.twiml import FlowError

log = logging.getLogger(__name__)
STATUS_OF_EVENT = {
    "leg_connecting": "initiated",
    "leg_ringing": "ringing",
    "leg_answered": "answered",
    "leg_terminated": "completed",
}
PENDING_TRANSCRIPTS = 10_000  # recordings whose transcribeCallback waits for its transcription
PENDING_STREAMS = 10_000  # streams whose statusCallback waits for their start or end
PENDING_RECORDINGS = 10_000  # recordings whose recordingStatusCallback waits for recording_completed
STREAM_ERRORS = frozenset({"error", "unreachable"})  # stream_stopped reasons Twilio reports as stream-error


class StatusCallbacks:
    """Sends each leg's status callbacks in order, in the background."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._sequence: dict[str, int] = {}
        self._transcripts: OrderedDict[tuple[str, str], tuple[str, dict[str, str]]] = OrderedDict()
        self._streams: OrderedDict[tuple[str, str], tuple[str, str, str]] = OrderedDict()
        self._recordings: OrderedDict[tuple[str, str], tuple[str, str, str]] = OrderedDict()

    def expect_transcription(self, leg: Leg, recording_id: str, url: str, params: dict[str, str]) -> None:
        """When the recording's `transcription_completed` event comes, POST it to `url` (transcribeCallback)."""
        pending = (url, {**call_params(leg), **params})
        _keep(self._transcripts, (leg.leg_sid, recording_id), pending, PENDING_TRANSCRIPTS)

    def expect_stream(self, leg: Leg, stream_sid: str, url: str, method: str, name: str) -> None:
        """Send a <Stream statusCallback>'s `stream-started`, then `stream-stopped` (or `stream-error`) to `url`."""
        _keep(self._streams, (leg.leg_sid, stream_sid), (url, method, name or stream_sid), PENDING_STREAMS)

    def expect_recording(self, leg: Leg, recording_id: str, url: str, method: str, source: str) -> None:
        """Send a recordingStatusCallback (`RecordingSource` `source`: RecordVerb, DialVerb) to `url` when the
        recording is complete, whatever ends it (a hang-up too)."""
        _keep(self._recordings, (leg.leg_sid, recording_id), (url, method, source), PENDING_RECORDINGS)

    def _recorded(self, leg: Leg, event: LegEvent) -> None:
        recording_id = str(event.data.get("recording_id") or "")
        pending = self._recordings.pop((leg.leg_sid, recording_id), None)
        if pending is None:
            return
        url, method, source = pending
        params = {
            "AccountSid": leg.account_sid,
            "CallSid": leg.leg_sid,
            **recording_params(event.data),
            "RecordingStatus": "completed",
            "RecordingChannels": "1",
            "RecordingSource": source,
        }
        self.send(leg, url, method, params)

    def _streamed(self, leg: Leg, event: LegEvent) -> None:
        sid = str(event.data.get("stream_sid") or "")
        key = (leg.leg_sid, sid)
        pending = self._streams.get(key) if event.event_name == "stream_started" else self._streams.pop(key, None)
        if pending is None:
            return
        url, method, name = pending
        params = {
            "AccountSid": leg.account_sid,
            "CallSid": leg.leg_sid,
            "StreamSid": sid,
            "StreamName": name,
            "StreamEvent": "stream-started",
            "Timestamp": format_datetime(event.timestamp),
        }
        if event.event_name == "stream_stopped":
            error = event.data.get("reason") in STREAM_ERRORS
            params["StreamEvent"] = "stream-error" if error else "stream-stopped"
            if error:
                params["StreamError"] = str(event.data.get("message") or event.data.get("reason"))
        self.send(leg, url, method, params)

    def _transcribed(self, leg: Leg, event: LegEvent) -> None:
        key = (leg.leg_sid, str(event.data.get("recording_id") or ""))
        pending = self._transcripts.pop(key, None)
        if pending is None:
            return
        url, params = pending
        text = event.data.get("text", event.data.get("transcription", ""))
        self.send(
            leg,
            url,
            "POST",
            {
                **params,
                "TranscriptionText": str(text or ""),
                "TranscriptionStatus": "completed" if text is not None else "failed",
                "TranscriptionSid": f"TR{event.event_sid}",
            },
        )

    def on_event(self, leg: Leg, event: LegEvent) -> None:
        if event.event_name == "transcription_completed":
            self._transcribed(leg, event)
            return
        if event.event_name in ("stream_started", "stream_stopped"):
            self._streamed(leg, event)
            return
        if event.event_name == "recording_completed":
            self._recorded(leg, event)
            return
        spec = leg.extra.get(FLOW_KEY) or {}
        status = STATUS_OF_EVENT.get(event.event_name)
        url = spec.get("status_callback")
        if not url or status is None or status not in spec.get("status_callback_event", ["completed"]):
            return
        sequence = self._sequence.get(leg.leg_sid, -1) + 1
        self._sequence[leg.leg_sid] = sequence
        params = {
            **call_params(leg),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(event.timestamp),
        }
        if status == "completed":
            params["CallDuration"] = params["Duration"] = str(leg.duration())
            self._sequence.pop(leg.leg_sid, None)
        self.send(leg, url, spec.get("status_callback_method") or "POST", params)

    def send(self, leg: Leg, url: str, method: str, params: dict[str, str]) -> None:
        """Send a callback about the leg after the ones queued before it (in the background)."""
        previous = self._chains.get(leg.leg_sid)
        task = asyncio.get_running_loop().create_task(self._send(previous, leg, url, method, params))
        self._chains[leg.leg_sid] = task
        task.add_done_callback(
            lambda done, sid=leg.leg_sid: self._chains.get(sid) is done and self._chains.pop(sid, None)
        )

    async def _send(
        self, previous: asyncio.Task[None] | None, leg: Leg, url: str, method: str, params: dict[str, str]
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            await self.fetcher.fetch(leg.account_sid, url, method, params)
        except FlowError as exc:
            log.warning(
                "callback failed leg_sid=%s account_sid=%s status=%s error=%s",
                leg.leg_sid,
                leg.account_sid,
                params.get("CallStatus"),
                exc.message,
            )
        except Exception:
            log.exception("status callback failed leg_sid=%s account_sid=%s", leg.leg_sid, leg.account_sid)

    async def stop(self) -> None:
        tasks = list(self._chains.values())
        await asyncio.gather(*tasks, return_exceptions=True)


def _keep(table: OrderedDict[tuple[str, str], Any], key: tuple[str, str], value: Any, limit: int) -> None:
    """Remember what a later event needs, the oldest forgotten past `limit` (a leg that never sends it)."""
    table[key] = value
    while len(table) > limit:
        table.popitem(last=False)
