"""Audio for SIP media tests: speech and tones as 8 kHz WAV files (espeak-ng + sox), and their analysis."""

from __future__ import annotations

import subprocess
from pathlib import Path

from legato.media.wavfile import read_pcm
from tests.media.signals import tone_ratio

GREETING = ("Hello, you have reached the voicemail of John Smith. I am not available right now. "
            "Please leave a message after the tone.")


def _sox(*args: str) -> None:
    """sox in repeatable mode (-R): its dither and white noise are seeded, so the same call makes the same file."""
    subprocess.run(["sox", "-R", *args], check=True, capture_output=True, timeout=60)


def speech(text: str, path: Path, voice: str = "en-us", rate: int = 160) -> Path:
    """`text` spoken by espeak-ng into an 8 kHz mono WAV."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), "--", text], check=True,
                   capture_output=True, timeout=60)
    _sox(str(raw), "-r", "8000", "-c", "1", "-b", "16", str(path))
    raw.unlink()
    return path


def silence(seconds: float, path: Path) -> Path:
    _sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "trim", "0", str(seconds))
    return path


def tone(hz: int, seconds: float, path: Path, volume: float = 0.5) -> Path:
    _sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds), "sine", str(hz),
         "vol", str(volume))
    return path


def join(parts: list[Path], path: Path) -> Path:
    _sox(*(str(p) for p in parts), str(path))
    return path


def machine_greeting(folder: Path, beep_hz: int | None = 1000) -> Path:
    """A voicemail greeting, then (optionally) a beep, then silence."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [speech(GREETING, folder / "greeting.wav"), silence(0.3, folder / "gap.wav")]
    if beep_hz is not None:
        parts.append(tone(beep_hz, 0.6, folder / "beep.wav"))
    parts.append(silence(6.0, folder / "tail.wav"))
    return join(parts, folder / "machine.wav")


def hard_answer(folder: Path, text: str, gain_db: float = 0.0, noise: float = 0.0, music_hz: int | None = None,
                beep_hz: int | None = None, rate: int = 160) -> Path:
    """`text` (espeak-ng at `rate` words a minute) at `gain_db`, over `noise` (sox white noise amplitude,
    0.03 is about -35 dBFS) and optionally a music bed under everything (a tone pulsing at 2 Hz), then
    optionally a beep, then silence."""
    folder.mkdir(parents=True, exist_ok=True)
    said = speech(text, folder / "said.wav", rate=rate)
    _sox(str(said), str(folder / "quiet.wav"), "gain", str(gain_db))
    parts = [silence(0.5, folder / "lead.wav"), folder / "quiet.wav", silence(0.5, folder / "gap.wav")]
    if beep_hz is not None:
        parts.append(tone(beep_hz, 0.5, folder / "beep.wav", volume=0.3))
    parts.append(silence(8.0, folder / "tail.wav"))
    clean = join(parts, folder / "clean.wav")
    if music_hz is not None:
        bed = folder / "bed.wav"
        _sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(bed), "synth", "14", "sine", str(music_hz),
             "tremolo", "2", "100", "vol", "0.02")
        mixed = folder / "with-music.wav"
        _sox("-m", str(clean), str(bed), str(mixed), "trim", "0", "14")
        clean = mixed
    if not noise:
        return clean
    hiss = folder / "noise.wav"
    _sox("-n", "-r", "8000", "-c", "1", "-b", "16", str(hiss), "synth", "14", "whitenoise", "vol", str(noise))
    out = folder / "answer.wav"
    _sox("-m", "-v", "1", str(clean), "-v", "1", str(hiss), str(out), "trim", "0", "14")
    return out


def human_hello(folder: Path) -> Path:
    """A short human answer: silence, "Hello?", then silence (the caller is expected to speak)."""
    folder.mkdir(parents=True, exist_ok=True)
    return join([silence(0.4, folder / "lead.wav"), speech("Hello?", folder / "hello.wav"),
                 silence(8.0, folder / "wait.wav")], folder / "human.wav")


def tone_share(path: Path, hz: float, start: float = 0.0, end: float | None = None) -> float:
    """The share (0..1) of a WAV's power at `hz` between `start` and `end` seconds."""
    pcm = read_pcm(path)
    first = int(start * 8000) * 2
    last = len(pcm) if end is None else int(end * 8000) * 2
    return tone_ratio(pcm[first:last], hz)


def level(path: Path, start: float = 0.0, end: float | None = None) -> float:
    """Mean absolute sample value of a WAV between `start` and `end` seconds."""
    pcm = read_pcm(path)
    first = int(start * 8000) * 2
    last = len(pcm) if end is None else int(end * 8000) * 2
    samples = memoryview(pcm[first:last]).cast("h")
    return sum(abs(s) for s in samples) / max(1, len(samples))


def notes(path: Path, candidates: tuple[int, ...], least: float = 200.0) -> list[int]:
    """The tones heard in a WAV, in order: each 20 ms frame louder than `least` (mean absolute sample) whose power
    is mostly at one of `candidates` is that note; runs of one note (two frames or more) count once."""
    pcm = read_pcm(path)
    runs: list[list[int]] = []  # [note, frames]
    for start in range(0, len(pcm) - 319, 320):
        frame = pcm[start : start + 320]
        samples = memoryview(frame).cast("h")
        note = None
        if sum(abs(s) for s in samples) / 160 > least:
            note = next((hz for hz in candidates if tone_ratio(frame, hz) > 0.6), None)
        if runs and runs[-1][0] == note:
            runs[-1][1] += 1
        else:
            runs.append([note, 1])  # type: ignore[list-item]
    return [note for note, frames in runs if note is not None and frames >= 2]
