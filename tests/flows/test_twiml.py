"""The TwiML parser: Twilio's own documents parse; what Legato cannot run is named; hostile XML is refused."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from legato.flows.media_verbs import espeak_voice
from legato.flows.twiml import MAX_DOCUMENT, FlowError, parse


def test_a_voice_response_parses_to_verbs_with_their_nouns() -> None:
    response = VoiceResponse()
    gather = Gather(input="dtmf speech", num_digits=2, action="/next", hints="sales, support")
    gather.say("Press or say", voice="alice", language="en-GB")
    response.append(gather)
    dial = Dial(caller_id="+918030752400", timeout=15)
    dial.sip("sip:agent@example.com")
    response.append(dial)
    response.hangup()
    gather_verb, dial_verb, hangup = parse(str(response))
    assert gather_verb.name == "Gather" and gather_verb.attributes["numDigits"] == "2"
    assert gather_verb.children[0].name == "Say" and gather_verb.children[0].text == "Press or say"
    assert dial_verb.children[0].name == "Sip" and dial_verb.children[0].text == "sip:agent@example.com"
    assert hangup.name == "Hangup"


@pytest.mark.parametrize(
    ("document", "kind", "name"),
    [
        ("<Response><Sms>hi</Sms></Response>", "verb", "Sms"),
        ('<Response><Say colour="blue">hi</Say></Response>', "attribute", "Say.colour"),
        ("<Response><Say><Play>x</Play></Say></Response>", "verb", "Play"),
        ("<Response><Dial><Queue>q</Queue></Dial></Response>", "noun", "Queue"),
        ("<Speak/>", "document", "Speak"),
        ("<Response><Say>", "document", "Response"),
    ],
)
def test_what_cannot_run_is_named(document: str, kind: str, name: str) -> None:
    with pytest.raises(FlowError) as raised:
        parse(document)
    assert (raised.value.kind, raised.value.name) == (kind, name)


def test_entities_and_oversized_documents_are_refused() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        "<Response><Say>&b;</Say></Response>"
    )
    with pytest.raises(FlowError) as raised:
        parse(laughs)
    assert raised.value.kind == "document"
    with pytest.raises(FlowError, match="over"):
        parse("<Response>" + "<Pause/>" * (MAX_DOCUMENT // 8) + "</Response>")


def test_integer_attributes_are_checked() -> None:
    [verb] = parse('<Response><Pause length="abc"/></Response>')
    with pytest.raises(FlowError) as raised:
        verb.integer("length", 1)
    assert raised.value.name == "Pause.length"


def test_twilio_voices_map_to_espeak_ng() -> None:
    assert espeak_voice(None, None) == "en-us"
    assert espeak_voice("woman", "en-GB") == "en-gb+f3"
    assert espeak_voice("Polly.Aditi", "hi-IN") == "hi"
    assert espeak_voice("man", "xx-YY") == "en-us"


def test_ssml_inside_say_is_spoken_as_text() -> None:
    response = VoiceResponse()
    say = response.say("Your code is", voice="alice")
    say.break_(time="1s")
    say.say_as("1234", interpret_as="digits")
    [verb] = parse(str(response))
    assert verb.text == "Your code is 1234" and verb.attributes == {"voice": "alice"}
