"""Every payload the store holds validates against the published JSON Schema (src/legato/schemas/leg_event.json)."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from tests.legato_server import Api

SCHEMA = json.loads(resources.files("legato").joinpath("schemas/leg_event.json").read_text())
NUMBERS = ["09163810001", "09163810002", "09163810003", "09163810004", "09163810005", "09163810006",
           "09163810007", "09163810008", "09163816621", "+14155552671"]


def test_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_stored_payload_validates(events_api: Api) -> None:
    legs = []
    for number in NUMBERS:
        response = events_api.create_leg(number, amd_enable=number in ("09163810004", "09163810005"),
                                         ring_timeout=5, time_limit=3, custom_param="x")
        assert response.status_code == 202, response.text
        legs.append(response.json()["response"]["data"]["leg_sid"])
    inbound = events_api.http.post(events_api.base + "/sandbox/incoming",
                                   json={"from": "sip:alice@example.com", "to": "08030752400"})
    legs.append(inbound.json()["response"]["data"]["leg_sid"])
    events_api.action(legs[-1], action="answer")
    events_api.action(legs[-1], action="hangup")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    names = set()
    for leg_sid in legs:
        events_api.wait_terminal(leg_sid)
        for event in events_api.events(leg_sid):
            errors = [e.message for e in validator.iter_errors(event["payload"])]
            assert not errors, (event["event_name"], errors)
            names.add(event["event_name"])
    assert {"leg_connecting", "leg_ringing", "leg_answered", "leg_terminated", "leg_incoming"} <= names
