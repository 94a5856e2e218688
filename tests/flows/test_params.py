"""Flow request parameters and signatures, checked against Twilio's own RequestValidator."""

from __future__ import annotations

from datetime import UTC, datetime

from twilio.request_validator import RequestValidator

from legato.domain.leg import AnsweredBy, Direction, Leg, LegState
from legato.flows.fetch import Overrides, split_fragment
from legato.flows.params import call_params, twilio_signature

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _leg(**fields: object) -> Leg:
    base = dict(
        leg_sid="LEG1",
        account_sid="AC1",
        call_sid="CALL1",
        direction=Direction.OUTBOUND,
        contact_uri="09163816621",
        contact_e164="+919163816621",
        exophone="08030752400",
        network_type="pstn",
        leg_event_endpoint=None,
        date_created=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return Leg(**{**base, **fields})  # type: ignore[arg-type]


def test_signature_is_the_one_twilio_validates() -> None:
    params = call_params(_leg(state=LegState.CONNECTED, answered_by=AnsweredBy.MACHINE))
    params["Digits"] = "1#"
    url = "https://app.example.com/voice?lang=en&x=a%20b"
    signature = twilio_signature(url, params, SECRET)
    assert RequestValidator(SECRET).validate(url, params, signature)
    assert not RequestValidator(SECRET + "x").validate(url, params, signature)
    assert RequestValidator(SECRET).validate(url + "&Digits=1", {}, twilio_signature(url + "&Digits=1", {}, SECRET))


def test_call_params_are_twilio_s() -> None:
    params = call_params(_leg(state=LegState.CONNECTED, answered_by=AnsweredBy.MACHINE))
    assert params == {
        "AccountSid": "AC1",
        "CallSid": "LEG1",
        "From": "+918030752400",
        "To": "+919163816621",
        "Caller": "+918030752400",
        "Called": "+919163816621",
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
        "AnsweredBy": "machine_start",
    }
    inbound = call_params(_leg(direction=Direction.INBOUND, state=LegState.RINGING))
    assert (inbound["From"], inbound["To"], inbound["CallStatus"], inbound["Direction"]) == (
        "+919163816621",
        "+918030752400",
        "ringing",
        "inbound",
    )


def test_fragments_tune_timeouts_and_retries() -> None:
    url, overrides = split_fragment("https://app.example.com/voice#ct=1000&rt=2500&rc=3&rp=ct,5xx")
    assert url == "https://app.example.com/voice"
    assert overrides == Overrides(connect=1.0, read=2.5, total=15.0, retries=3, policy=frozenset({"ct", "5xx"}))
    assert split_fragment("https://app.example.com/voice")[1] == Overrides()


def test_from_and_to_are_e164_as_twilio_writes_them_and_sip_uris_stay_uris() -> None:
    # Twilio: "Phone numbers are formatted with a '+' and country code, e.g. +16175551212 (E.164 format)"
    params = call_params(_leg(state=LegState.RINGING, contact_uri="919163816621", contact_e164=None))
    assert (params["From"], params["To"], params["Caller"], params["Called"]) == (
        "+918030752400", "+919163816621", "+918030752400", "+919163816621")
    sip = call_params(_leg(state=LegState.RINGING, contact_uri="sip:alice@pbx.example.com", contact_e164=None,
                           network_type="voip"))
    assert sip["To"] == "sip:alice@pbx.example.com"
