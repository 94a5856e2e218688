"""Twilio Media Streams framing: camelCase JSON, base64 mu-law at 8000 Hz, `sequenceNumber` as strings."""

from __future__ import annotations

import base64

from legato.media import g711
from legato.media.stream.protocol import (
    AgentAudio,
    AgentClear,
    AgentMark,
    AgentMessage,
    ProtocolError,
    StreamInfo,
    dump,
    load,
    mark_name,
    payload_bytes,
)


class TwilioFraming:
    """One stream in Twilio's protocol."""

    def __init__(self, info: StreamInfo) -> None:
        if info.sample_rate != 8000:
            raise ValueError("twilio streams are 8000 Hz")
        self.info = info
        self.sequence = 0

    def _frame(self, event: str, body: dict[str, object]) -> str:
        self.sequence += 1
        return dump({"event": event, "sequenceNumber": str(self.sequence), **body, "streamSid": self.info.stream_sid})

    def opening(self) -> list[str]:
        info = self.info
        start = {
            "accountSid": info.account_sid,
            "streamSid": info.stream_sid,
            "callSid": info.call_sid,
            "tracks": list(info.tracks),
            "customParameters": dict(info.custom_parameters),
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        }
        return [
            dump({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
            self._frame("start", {"start": start}),
        ]

    def media(self, track: str, pcm: bytes, chunk: int, timestamp_ms: int) -> str:
        # the hot path (50 a second per track): formatted directly; every value is a safe ASCII token
        self.sequence += 1
        payload = base64.b64encode(g711.encode(g711.Codec.PCMU, pcm)).decode("ascii")
        return (
            f'{{"event":"media","sequenceNumber":"{self.sequence}","media":{{"track":"{track}",'
            f'"chunk":"{chunk}","timestamp":"{timestamp_ms}","payload":"{payload}"}},'
            f'"streamSid":"{self.info.stream_sid}"}}'
        )

    def dtmf(self, digit: str) -> str:
        return self._frame("dtmf", {"dtmf": {"track": "inbound_track", "digit": digit}})

    def mark(self, name: str) -> str:
        return self._frame("mark", {"mark": {"name": name}})

    def closing(self) -> str:
        return self._frame("stop", {"stop": {"accountSid": self.info.account_sid, "callSid": self.info.call_sid}})

    def parse(self, text: str) -> AgentMessage | None:
        message = load(text)
        event = message.get("event")
        if event == "media":
            return AgentAudio(g711.decode(g711.Codec.PCMU, payload_bytes(message)))
        if event == "mark":
            return AgentMark(mark_name(message))
        if event == "clear":
            return AgentClear()
        if event is not None and not isinstance(event, str):  # no event at all: a message to pass over
            raise ProtocolError("event must be a string")
        return None
