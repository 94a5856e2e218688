"""The verb table: each TwiML verb Legato runs and the function that runs it (one line each)."""

from __future__ import annotations

from legato.flows import call_verbs, gather_verb, media_verbs, stream_verbs
from legato.flows.runner import VerbRunner

VERB_RUNNERS: dict[str, VerbRunner] = {
    "Say": media_verbs.say,
    "Play": media_verbs.play,
    "Pause": media_verbs.pause,
    "Gather": gather_verb.gather,
    "Record": media_verbs.record,
    "Dial": call_verbs.dial,
    "Redirect": call_verbs.redirect,
    "Hangup": call_verbs.hangup,
    "Reject": call_verbs.reject,
    "Connect": stream_verbs.connect,
    "Start": stream_verbs.start,
    "Stop": stream_verbs.stop,
}
"""Keys match `twiml.VERBS` (which declares each verb's attributes and nouns)."""
