"""Every leg action, one line each, in the order the API lists them (the request's `action` enum).

Adding an action: its module in this package (an `ActionSpec`: its request fields and their rules; for media
a typed network command with `run` for the media engine and `simulate` for the sandbox, for call control what
it does to the leg) and its line here. The request model (app/leg_requests.py `LegAction`), the CLI's
`legato legs <action>` and the OpenAPI document follow.
"""

from __future__ import annotations

from legato.app.actions import (
    answer,
    gather,
    hangup,
    play,
    redirect,
    send_digits,
    start_recording,
    start_stream,
    stop_play,
    stop_recording,
    stop_stream,
    switches,
    transfer,
)
from legato.app.actions.base import ActionSpec

ACTIONS: dict[str, ActionSpec] = {spec.name: spec for spec in (
    hangup.ACTION,
    answer.ACTION,
    redirect.ACTION,
    play.PLAY,
    play.SAY,
    stop_play.ACTION,
    start_recording.ACTION,
    stop_recording.ACTION,
    gather.ACTION,
    send_digits.ACTION,
    switches.MUTE,
    switches.UNMUTE,
    switches.HOLD,
    switches.UNHOLD,
    transfer.ACTION,
    start_stream.ACTION,
    stop_stream.ACTION,
)}

MEDIA_ACTIONS = frozenset(name for name, spec in ACTIONS.items() if spec.media)
