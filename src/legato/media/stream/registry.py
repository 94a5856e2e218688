"""Stream protocols by the name `start_stream` takes: adding one is its module and one entry here."""

from __future__ import annotations

from collections.abc import Callable

from legato.media.stream.exotel import ExotelFraming
from legato.media.stream.protocol import Framing, StreamInfo
from legato.media.stream.twilio import TwilioFraming

PROTOCOLS: dict[str, Callable[[StreamInfo], Framing]] = {"twilio": TwilioFraming, "exotel": ExotelFraming}
SAMPLE_RATES: dict[str, tuple[int, ...]] = {"twilio": (8000,), "exotel": (8000, 16000, 24000)}
