"""How TwiML attributes map onto leg action fields for the parts other modules build (speech, streams)."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Gather, VoiceResponse

from legato.flows import gather_verb, stream_verbs
from legato.flows.media_verbs import SAY_TEXT, prompt_parts
from legato.flows.twiml import Verb, parse


def test_a_speech_gather_maps_onto_the_gather_action_s_speech_fields() -> None:
    response = VoiceResponse()
    response.append(
        Gather(
            input="dtmf speech",
            speech_timeout="auto",
            hints="sales, support",
            language="en-IN",
            num_digits=1,
            finish_on_key="",
        )
    )
    [verb] = parse(str(response))
    assert gather_verb._fields(verb, ["dtmf", "speech"]) == {
        "num_digits": 1,
        "timeout": 5,
        "finish_on_key": "",
        "input": "dtmf speech",
        "hints": "sales, support",
        "language": "en-IN",
        "speech_timeout": None,  # auto: the recogniser's own end-of-speech
    }
    [digits_only] = parse("<Response><Gather/></Response>")
    assert gather_verb._fields(digits_only, ["dtmf"]) == {"num_digits": None, "timeout": 5, "finish_on_key": "#"}


def test_a_stream_maps_onto_start_stream() -> None:
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url="wss://bot.example.com/media", track="both_tracks")
    stream.parameter(name="customer", value="42")
    response.append(connect)
    [verb] = parse(str(response))
    assert stream_verbs._fields(stream_verbs._stream(verb), True) == {
        "url": "wss://bot.example.com/media",
        "protocol": "twilio",
        "track": "both",
        "bidirectional": True,
        "custom_parameters": {"customer": "42"},
    }


def test_a_long_say_is_cut_into_parts_at_spaces_and_looped_whole() -> None:
    text = ("abc " * 600).strip()  # 2399 characters
    parts = prompt_parts(Verb("Say", {"loop": "2", "voice": "alice"}, text))
    assert len(parts) == 4 and all(len(p.text) <= SAY_TEXT for p in parts)
    assert " ".join(p.text for p in parts[:2]) == text and parts[2:] == parts[:2]
    assert all(p.get("loop") == "1" and p.get("voice") == "alice" for p in parts)
    short = Verb("Say", {}, "hello")
    assert prompt_parts(short) == [short]
