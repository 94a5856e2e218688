"""Leg actions (`POST .../legs/{sid}/actions`), declared once: the fields each takes and where it goes.

Call-control actions (`media=False`) become leg machine inputs; media actions go to the leg's network
as a `MediaCommand` of the same name (network/media_actions.py for the media engine, network/sandbox.py
for the simulation). Adding an action: one line here, its fields on `LegAction` (app/legs.py) when new,
and its handler in each network's table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    fields: frozenset[str] = frozenset()  # the request fields it takes besides `action`
    required: tuple[str, ...] = ()  # those it cannot do without
    media: bool = True  # on a connected leg's audio (else call control)


ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    ActionSpec("hangup", frozenset({"reason"}), media=False),
    ActionSpec("answer", frozenset({"stream"}), media=False),
    ActionSpec("redirect", frozenset({"url", "method"}), ("url",), media=False),
    ActionSpec("play", frozenset({"url", "loop"}), ("url",)),
    ActionSpec("say", frozenset({"text", "voice", "rate", "loop"}), ("text",)),
    ActionSpec("stop_play"),
    ActionSpec("start_recording", frozenset({"direction", "transcribe", "beep"})),
    ActionSpec("stop_recording"),
    ActionSpec("gather", frozenset({"num_digits", "timeout", "finish_on_key", "input", "speech_timeout", "hints",
                                  "language", "silence_timeout"})),
    ActionSpec("send_digits", frozenset({"digits"}), ("digits",)),
    ActionSpec("mute"),
    ActionSpec("unmute"),
    ActionSpec("hold"),
    ActionSpec("unhold"),
    ActionSpec("transfer", frozenset({"to", "mode", "transfer_event_endpoint"}), ("to",), media=False),
    ActionSpec("start_stream", frozenset({"url", "protocol", "track", "bidirectional", "custom_parameters",
                                          "sample_rate"}), ("url",)),
    ActionSpec("stop_stream", frozenset({"stream_sid"}), ("stream_sid",)),
)}

MEDIA_ACTIONS = frozenset(name for name, spec in ACTIONS.items() if spec.media)
