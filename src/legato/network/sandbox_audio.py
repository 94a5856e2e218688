"""The sandbox's stand-in audio files: silence as long as a simulated recording ran, a prompt's length."""

from __future__ import annotations

import wave
from pathlib import Path

from legato.domain.errors import ValidationFailed
from legato.media.recorder import write_recording

MAX_SILENCE_SECONDS = 3600  # the longest simulated recording written


def write_silence(folder: Path, name: str, seconds: float) -> int:
    """Write `seconds` (capped) of 8 kHz silence to folder/name; returns the frames written."""
    frames = int(min(max(0.0, seconds), MAX_SILENCE_SECONDS) * 8000)
    write_recording(folder / name, bytes(2 * frames))
    return frames


def wav_seconds(path: str) -> float:
    """The length of a WAV file; ValidationFailed when it is not one."""
    try:
        with wave.open(path, "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (OSError, wave.Error, EOFError) as exc:
        raise ValidationFailed(f"url is not a readable WAV file ({exc})", field="url") from None
