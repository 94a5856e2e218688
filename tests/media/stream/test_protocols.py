"""Twilio's and Exotel's framings: the shapes sent, what is accepted from the application, what is refused."""

from __future__ import annotations

import base64
import json

import pytest

from legato.media import g711
from legato.media.stream.protocol import AgentAudio, AgentClear, AgentMark, ProtocolError, StreamInfo
from legato.media.stream.registry import PROTOCOLS

INFO = StreamInfo("MZ1", "acme", "LEG1", ("inbound",), {"k": "v"})


def test_twilio_frames_are_twilios() -> None:
    framing = PROTOCOLS["twilio"](INFO)
    connected, start = (json.loads(f) for f in framing.opening())
    assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert start == {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ1",
        "start": {
            "accountSid": "acme",
            "streamSid": "MZ1",
            "callSid": "LEG1",
            "tracks": ["inbound"],
            "customParameters": {"k": "v"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
    media = json.loads(framing.media("inbound", b"\x10\x00" * 160, 1, 0))
    assert media["sequenceNumber"] == "2" and media["media"]["chunk"] == "1" and media["media"]["timestamp"] == "0"
    assert len(base64.b64decode(media["media"]["payload"])) == 160
    assert json.loads(framing.dtmf("5"))["dtmf"] == {"track": "inbound_track", "digit": "5"}
    assert json.loads(framing.mark("m"))["mark"] == {"name": "m"}
    stop = json.loads(framing.closing())
    assert stop["stop"] == {"accountSid": "acme", "callSid": "LEG1"} and stop["sequenceNumber"] == "5"


def test_twilio_parses_media_mark_clear_of_any_length() -> None:
    framing = PROTOCOLS["twilio"](INFO)
    payload = base64.b64encode(g711.encode(g711.Codec.PCMU, b"\x00\x10" * 37)).decode()
    audio = framing.parse(json.dumps({"event": "media", "streamSid": "MZ1", "media": {"payload": payload}}))
    assert isinstance(audio, AgentAudio) and len(audio.pcm) == 74
    assert framing.parse('{"event": "mark", "streamSid": "MZ1", "mark": {"name": "x"}}') == AgentMark("x")
    assert framing.parse('{"event": "clear", "streamSid": "MZ1"}') == AgentClear()
    assert framing.parse('{"event": "something-new"}') is None


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_exotel_frames_are_snake_case_pcm_in_whole_chunks(rate: int) -> None:
    framing = PROTOCOLS["exotel"](StreamInfo("MZ1", "acme", "LEG1", ("inbound",), {}, rate))
    connected, start = (json.loads(f) for f in framing.opening())
    assert connected == {"event": "connected"}
    assert start["stream_sid"] == "MZ1" and start["sequence_number"] == 1
    assert start["start"]["call_sid"] == "LEG1" and start["start"]["media_format"]["sample_rate"] == str(rate)
    for chunk in range(1, 20):
        media = json.loads(framing.media("inbound", b"\x10\x00" * 160, chunk, chunk * 20))
        assert len(base64.b64decode(media["media"]["payload"])) == rate // 50 * 2  # multiples of 320
    assert json.loads(framing.closing())["stop"]["call_sid"] == "LEG1"


@pytest.mark.parametrize("sid_key", ["stream_sid", "streamSid"])
def test_exotel_takes_either_spelling_and_any_whole_samples(sid_key: str) -> None:
    framing = PROTOCOLS["exotel"](StreamInfo("MZ1", "acme", "LEG1", ("inbound",), {}, 16000))
    payload = base64.b64encode(b"\x00\x01" * 320).decode()  # 640 bytes: 20 ms at 16 kHz
    audio = framing.parse(json.dumps({"event": "media", sid_key: "MZ1", "media": {"payload": payload}}))
    assert isinstance(audio, AgentAudio) and abs(len(audio.pcm) - 320) <= 4
    assert framing.parse(json.dumps({"event": "clear", sid_key: "MZ1"})) == AgentClear()
    # Pipecat's Exotel serializer sends what its resampler gives (not a multiple of 320): taken
    odd_size = base64.b64encode(b"\x00" * 1516).decode()
    audio = framing.parse(json.dumps({"event": "media", sid_key: "MZ1", "media": {"payload": odd_size}}))
    assert isinstance(audio, AgentAudio) and abs(len(audio.pcm) - 758) <= 4
    with pytest.raises(ProtocolError, match="whole 16-bit samples"):  # half a sample is not audio
        half = base64.b64encode(b"\x00" * 101).decode()
        framing.parse(json.dumps({"event": "media", sid_key: "MZ1", "media": {"payload": half}}))


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1]",
        '{"event": 3}',
        '{"event": "media", "media": {}}',
        '{"event": "media", "media": {"payload": "***"}}',
        '{"event": "mark"}',
    ],
)
def test_malformed_frames_are_protocol_errors(text: str) -> None:
    for framing_of in PROTOCOLS.values():
        with pytest.raises(ProtocolError):
            framing_of(INFO).parse(text)


def test_a_message_without_an_event_is_passed_over_as_twilio_does() -> None:
    """Pipecat's serializers send a pipeline's transport messages as they are (e.g. RTVI's, `label` and `type`, when
    `ignore_rtvi_messages` is off); Twilio only logs a warning (31951) for them and the stream goes on."""
    for framing_of in PROTOCOLS.values():
        assert framing_of(INFO).parse('{"label": "rtvi-ai", "type": "bot-ready", "data": {}}') is None
