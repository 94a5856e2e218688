"""The sandbox's stand-in audio files: silence as long as a simulated recording ran (a conference's with its tones),
a prompt's length."""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

from legato.domain.errors import ValidationFailed
from legato.media.recorder import write_recording

log = logging.getLogger(__name__)
MAX_SILENCE_SECONDS = 3600  # the longest simulated recording written


def silence_frames(seconds: float) -> int:
    """The 8 kHz frames of a silent recording `seconds` long (capped)."""
    return int(min(max(0.0, seconds), MAX_SILENCE_SECONDS) * 8000)


def write_silence(folder: Path, name: str, seconds: float, sounds: Sequence[tuple[float, bytes]] = ()) -> int:
    """Write `seconds` (capped) of 8 kHz silence to folder/name, with `sounds` (offset in seconds, 16-bit PCM)
    laid over it (cut at its end); returns the frames written."""
    frames = silence_frames(seconds)
    pcm = bytearray(2 * frames)
    for offset, sound in sounds:
        start = 2 * silence_frames(offset)
        piece = sound[: max(0, len(pcm) - start)]
        pcm[start : start + len(piece)] = piece
    write_recording(folder / name, bytes(pcm))
    return frames


class SilenceWriter:
    """Writes the sandbox's leg recordings in a worker thread (an hour of silence is 58 MB: never on the loop);
    what follows a recording (its events) runs on the loop once its file is complete."""

    def __init__(self) -> None:
        self._pending: set[asyncio.Task[None]] = set()

    def write(self, folder: Path, name: str, seconds: float, then: Callable[[], None]) -> None:
        """Write the file in the background, then call `then` on the loop."""
        task = asyncio.get_running_loop().create_task(self._write(folder, name, seconds, then))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, folder: Path, name: str, seconds: float, then: Callable[[], None]) -> None:
        try:
            await asyncio.to_thread(write_silence, folder, name, seconds)
        except OSError:
            log.exception("sandbox recording not written file=%s", name)
        then()  # the leg's events come either way (a file that could not be written is missing, as on SIP)

    async def drain(self) -> None:
        """Wait for the files being written (the network stops)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def wav_seconds(path: str) -> float:
    """The length of a WAV file; ValidationFailed when it is not one."""
    try:
        with wave.open(path, "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (OSError, wave.Error, EOFError) as exc:
        raise ValidationFailed(f"url is not a readable WAV file ({exc})", field="url") from None
