"""Text to speech with espeak-ng, resampled to 8 kHz by sox; results cached by content."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
from pathlib import Path

from legato.media.g711 import SAMPLE_RATE


class SpeechError(RuntimeError):
    """espeak-ng or sox failed."""


def _command(text: str, voice: str, rate: int, out: Path) -> list[str]:
    # `--` ends options so that text starting with '-' is spoken, never parsed
    return ["sh", "-c", 'espeak-ng -v "$1" -s "$2" --stdout -- "$3" | sox -t wav - -r "$4" -c 1 -b 16 "$5"',
            "speak", voice, str(rate), text, str(SAMPLE_RATE), str(out)]


def _target(text: str, voice: str, rate: int, folder: Path) -> Path:
    digest = hashlib.sha256(f"{voice}\0{rate}\0{text}".encode()).hexdigest()[:24]
    return folder / f"tts-{digest}.wav"


def _check(voice: str, rate: int, text: str) -> None:
    if not text.strip():
        raise SpeechError("nothing to say")
    if not voice.replace("-", "").replace("+", "").replace("_", "").isalnum():
        raise SpeechError(f"bad voice name: {voice!r}")
    if not 80 <= rate <= 450:
        raise SpeechError("rate must be 80..450 words per minute")


def synthesize(text: str, folder: str | Path, voice: str = "en-us", rate: int = 160) -> Path:
    """Speak `text` into an 8 kHz mono WAV under `folder` (blocking); returns its path."""
    _check(voice, rate, text)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = _target(text, voice, rate, folder)
    if target.exists():
        return target
    tmp = target.with_suffix(f".{os.getpid()}.tmp.wav")
    proc = subprocess.run(_command(text, voice, rate, tmp), capture_output=True, timeout=60, check=False)
    if proc.returncode != 0 or not tmp.exists():
        raise SpeechError(proc.stderr.decode(errors="replace").strip() or "espeak-ng failed")
    tmp.replace(target)
    return target


async def synthesize_async(text: str, folder: str | Path, voice: str = "en-us", rate: int = 160) -> Path:
    """As `synthesize`, without blocking the loop."""
    _check(voice, rate, text)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = _target(text, voice, rate, folder)
    if target.exists():
        return target
    tmp = target.with_suffix(f".{os.getpid()}.{id(text)}.tmp.wav")
    proc = await asyncio.create_subprocess_exec(*_command(text, voice, rate, tmp),
                                                stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    if proc.returncode != 0 or not tmp.exists():
        raise SpeechError(err.decode(errors="replace").strip() or "espeak-ng failed")
    tmp.replace(target)
    return target
