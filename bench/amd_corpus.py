"""Generate a labelled AMD corpus with espeak-ng: short human answers vs. machine greetings.

    PYTHONPATH=src python bench/amd_corpus.py [--out var/amd-corpus] [--count 240] [--seed 7]

Every sample: leading silence, speech from one of several voices and speeds, then what follows
(silence for humans; silence, a beep at one of several frequencies/levels, or a beep look-alike
negative -- SIT tone, mains hum, music -- for machines), line noise, sometimes hum underneath, and a
mu-law round trip. Writes WAVs and labels.csv (label HUMAN / MACHINE / BEEP, split tune / test:
a fixed alternation after a seeded shuffle). The output folder is gitignored (var/).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np

from legato.media import g711
from legato.media.speech import synthesize
from legato.media.wavfile import read_pcm, write_pcm

RATE = 8000
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m3", "en-gb-x-rp", "en-us+f4"]
SPEEDS = [130, 150, 165, 180, 200]
HUMAN = ["Hello?", "Hello.", "Yes?", "Yes, speaking.", "Hi.", "Hello, who is this?", "Speaking.",
         "Yeah?", "Hello, hello?", "Good morning.", "This is Sam.", "Hi there.", "Hello, Maria speaking."]
MACHINE = [
    "Hi, you have reached the Johnson family. We can't come to the phone right now. "
    "Please leave a message after the tone.",
    "Hello, this is Mark. I'm not available, leave your name and number and I will call you back.",
    "The person you are calling is not available. Please leave a message after the beep.",
    "Thank you for calling Acme Dental. Our office is currently closed. Our hours are nine to five.",
    "Hey, it's Jen. Sorry I missed you. Leave a message.",
    "You have reached the voicemail box of extension two four seven. Please record your message.",
    "Hi, this is David Miller from accounts. I am either on the phone or away from my desk.",
    "Welcome. The subscriber you have dialled is not available. Please try again later.",
    "Hello! You've reached Priya and Tom. We're out, so please leave a message.",
    "This is the after hours line for City Plumbing. For emergencies please call our main number.",
]
BEEP_FREQS = [440.0, 600.0, 850.0, 1000.0, 1400.0, 1950.0]
BEEP_LEVELS = [-8.0, -18.0, -28.0]


def to_pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, "<i2").astype(np.float64)


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000))


def sine(freq: float, ms: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(RATE * ms / 1000)) / RATE
    x = 32767 * 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)
    ramp = min(40, x.size // 4)
    x[:ramp] *= np.linspace(0, 1, ramp)
    x[-ramp:] *= np.linspace(1, 0, ramp)
    return x


def sit(dbfs: float) -> np.ndarray:
    return np.concatenate([sine(913.8, 274, dbfs), sine(1370.6, 274, dbfs), sine(1776.7, 380, dbfs)])


def hum(ms: float, mains: float, dbfs: float) -> np.ndarray:
    t = np.arange(int(RATE * ms / 1000)) / RATE
    amp = 32767 * 10 ** (dbfs / 20)
    return sum(amp / k * np.sin(2 * np.pi * mains * k * t + k) for k in range(1, 12))


def music(ms: float, rng: random.Random, dbfs: float) -> np.ndarray:
    scale = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3, 587.3, 659.3, 784.0, 880.0]
    out: list[np.ndarray] = []
    amp = 32767 * 10 ** (dbfs / 20)
    total = 0
    while total < RATE * ms / 1000:
        n = int(RATE * rng.uniform(0.15, 0.5))
        t = np.arange(n) / RATE
        f = rng.choice(scale)
        kind = rng.randrange(3)
        if kind == 0:
            x = np.sin(2 * np.pi * f * t)
        elif kind == 1:
            x = sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, 5))
        else:
            x = sum(np.sin(2 * np.pi * g * t) for g in (f, f * 1.26, f * 1.5)) / 2
        out.append(amp * x * np.minimum(1.0, np.minimum(t / 0.01, (t[-1] - t + 1e-9) / 0.03)))
        total += n
    return np.concatenate(out)


def make_sample(rng: random.Random, kind: str, cache: Path) -> tuple[np.ndarray, dict[str, str]]:
    voice, speed = rng.choice(VOICES), rng.choice(SPEEDS)
    text = rng.choice(HUMAN if kind == "human" else MACHINE)
    speech = samples(read_pcm(synthesize(text, cache, voice=voice, rate=speed)))
    speech *= 10 ** (rng.uniform(-8, 2) / 20)  # talker level
    meta = {"voice": voice, "rate": str(speed), "text": text, "tail": "silence"}
    lead = silence(rng.uniform(150, 1500) if kind == "human" else rng.uniform(150, 900))
    parts = [lead, speech]
    label = "HUMAN" if kind == "human" else "MACHINE"
    if kind == "human":
        parts.append(silence(4000))
    elif kind == "beep":
        freq, level = rng.choice(BEEP_FREQS), rng.choice(BEEP_LEVELS)
        length = rng.choice([250, 400, 600, 1000])
        parts += [silence(rng.uniform(250, 1200)), sine(freq, length, level), silence(2500)]
        meta["tail"] = f"beep {freq:.0f}Hz {level:.0f}dBFS {length}ms"
        label = "BEEP"
    elif kind == "negative":
        which = rng.choice(["sit", "hum", "music"])
        gap = silence(rng.uniform(200, 800))
        if which == "sit":
            parts += [gap, sit(rng.choice([-12.0, -20.0])), silence(2500)]
        elif which == "hum":
            parts += [gap, hum(3000, rng.choice([50.0, 60.0]), -20.0), silence(1000)]
        else:
            parts += [gap, music(4000, rng, -16.0), silence(1000)]
        meta["tail"] = which
    else:
        parts.append(silence(3500))
    x = np.concatenate(parts)
    noise_db = rng.uniform(-62, -45)
    x += np.random.default_rng(rng.randrange(2**32)).normal(0, 32767 * 10 ** (noise_db / 20), x.size)
    meta["noise_dbfs"] = f"{noise_db:.0f}"
    if rng.random() < 0.2:
        x += hum(x.size * 1000 / RATE, rng.choice([50.0, 60.0]), -42.0)
        meta["noise_dbfs"] += "+hum"
    codec = rng.choice([g711.Codec.PCMU, g711.Codec.PCMA])
    pcm = g711.decode(codec, g711.encode(codec, to_pcm(x)))  # the G.711 line
    meta["codec"] = codec.name
    return samples(pcm), {"label": label, **meta}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="var/amd-corpus")
    ap.add_argument("--count", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    out = Path(args.out)
    cache = out / "tts"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    # 40% human, 25% machine without beep, 25% machine with beep, 10% machine + beep look-alike
    kinds = (["human"] * 40 + ["machine"] * 25 + ["beep"] * 25 + ["negative"] * 10) * (args.count // 100 + 1)
    kinds = kinds[: args.count]
    rng.shuffle(kinds)
    rows = []
    for i, kind in enumerate(kinds):
        x, meta = make_sample(rng, kind, cache)
        name = f"amd-{i:04d}.wav"
        write_pcm(out / name, to_pcm(x))
        rows.append({"file": name, "split": "tune" if i % 2 == 0 else "test", "kind": kind, **meta})
        if i % 40 == 0:
            print(f"{i}/{len(kinds)}", file=sys.stderr)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} samples to {out}")


if __name__ == "__main__":
    main()
