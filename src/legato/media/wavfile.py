"""WAV files as the engine uses them: 8 kHz, mono, 16-bit linear PCM (other formats converted by sox)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

from legato.media.g711 import SAMPLE_RATE, SAMPLE_WIDTH


class AudioFileError(ValueError):
    """A file that cannot be read as audio."""


def read_pcm(path: str | Path) -> bytes:
    """The 8 kHz mono 16-bit PCM of a WAV file, converting through sox when the format differs."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, SAMPLE_WIDTH):
                return w.readframes(w.getnframes())
    except FileNotFoundError as exc:
        raise AudioFileError(f"no such file: {path}") from exc
    except (wave.Error, EOFError):
        pass  # not plain PCM WAV (e.g. mu-law, float): let sox read it
    return convert_with_sox(path)


def convert_with_sox(path: Path) -> bytes:
    """Any audio file sox understands -> 8 kHz mono 16-bit PCM bytes."""
    proc = subprocess.run(["sox", str(path), "-t", "raw", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                           "-e", "signed-integer", "-L", "-"], capture_output=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise AudioFileError(f"cannot read {path}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def write_pcm(path: str | Path, pcm: bytes, channels: int = 1) -> None:
    """Write 16-bit PCM at 8 kHz as a WAV file (interleaved when channels > 1)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(SAMPLE_WIDTH)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
