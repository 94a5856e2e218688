"""Test speech: espeak-ng sentences at telephone quality (8 kHz, through G.711 mu-law and back)."""

from __future__ import annotations

import subprocess

from legato.media import g711

TRAVEL = ("book a flight", "change my reservation", "baggage", "flight status", "cancel my booking")


def spoken(text: str, voice: str = "en-us", rate: int = 150) -> bytes:
    """8 kHz 16-bit PCM of `text` as a phone line carries it."""
    raw = subprocess.run(
        [
            "sh",
            "-c",
            'espeak-ng -v "$1" -s "$2" --stdout -- "$3"'
            " | sox -R -t wav - -r 8000 -c 1 -b 16 -e signed-integer -t raw -",
            "speak",
            voice,
            str(rate),
            text,
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    return g711.decode(0, g711.encode(g711.Codec.PCMU, raw))


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(8000 * seconds)
