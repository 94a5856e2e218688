"""Leg actions are declared once (domain/actions.py); every network handles every media action."""

from legato.app.legs import LegAction
from legato.domain.actions import ACTIONS, MEDIA_ACTIONS
from legato.network import sandbox
from legato.network.media_actions import MEDIA_HANDLERS


def test_every_media_action_has_a_handler_in_each_network() -> None:
    assert set(MEDIA_HANDLERS) == MEDIA_ACTIONS
    assert set(sandbox._MEDIA) == MEDIA_ACTIONS


def test_the_request_schema_follows_the_declarations() -> None:
    schema = LegAction.model_json_schema()
    assert schema["properties"]["action"]["enum"] == list(ACTIONS)
    for spec in ACTIONS.values():
        assert spec.fields <= set(schema["properties"]), spec.name
