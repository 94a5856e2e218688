"""The dialect registry: one declaration per dialect drives the API's format lists."""

from legato.app.legs import CreateLeg
from legato.dialects import formats


def test_lists_follow_the_registry() -> None:
    assert formats.FORMATS == ("exotel", "messagebird", "telefonie", "ringcentral")
    assert set(formats.EVENT_FORMATS) == {"exotel", "bandwidth", "telefonie", "messagebird"}
    assert set(CreateLeg.model_json_schema()["properties"]["event_format"]["enum"]) == set(formats.EVENT_FORMATS)


def test_a_format_without_event_callbacks_falls_back_to_legato_events() -> None:
    assert formats.DIALECTS["ringcentral"].render_event is None
