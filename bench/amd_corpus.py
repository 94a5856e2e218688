"""Generate the hard AMD corpus: espeak-ng answers and greetings under varied level, noise and loss.

    PYTHONPATH=src python bench/amd_corpus.py [--out var/amd-hard] [--count 400] [--seed 18]

Each clip is one answer (short 1-3 word or long 4-8 word human answer; machine greeting, sometimes
over music or after a music intro; greeting then beep; greeting then a beep look-alike: SIT tone, hum
or music) under one condition, varied one axis at a time from nominal (speech at -23 dBFS active
level +-2 dB, -65 dBFS white line hiss, no loss):
  level  speech -6, -12, -15, -20, -25 dB from nominal
  noise  white, pink, babble, hum or street noise at -50, -45, -40, -35, -30, -25 dBFS
  loss   1, 2, 3, 5% of 20 ms packets lost, concealed by repeating the last packet
Every clip goes through a PCMU or PCMA round trip. Writes clips/*.wav and labels.csv (label HUMAN /
MACHINE / BEEP; split tune / test, alternating within each kind x axis group after one seeded
shuffle). espeak-ng output is cached under <out>/tts, so a rerun takes seconds. <out> is gitignored
(var/).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from amd_signals import (
    active_level,
    at_level,
    g711_line,
    music,
    noise,
    samples,
    silence,
    sine,
    sit,
    to_pcm,
)
from amd_signals import hum as hum_signal

from legato.media import g711
from legato.media.speech import synthesize
from legato.media.wavfile import read_pcm, write_pcm

NOMINAL_DBFS = -23.0
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb-scotland", "en-029", "en-us+m3", "en-gb-x-rp", "en-us+f4",
          "en-us-nyc", "en-gb-x-gbclan", "en-gb+f2", "en-us+m5"]
SPEEDS = [125, 145, 160, 175, 190, 210]
HUMAN_SHORT = ["Hello?", "Hello.", "Yes?", "Yes, speaking.", "Hi.", "Hello, who is this?", "Speaking.",
               "Yeah?", "Hello, hello?", "Good morning.", "This is Sam.", "Hi there."]
HUMAN_LONG = ["Good morning, Sharma Traders, how can I help you?", "Hello, this is Anita, who is calling?",
              "Yes, hello, Ravi here, go ahead.", "Hi, this is the front desk.",
              "Hello, Patel residence, who is it?", "Good afternoon, City Clinic, reception speaking.",
              "Yeah, hi, what can I do for you?", "Hello, you are speaking to Mike.",
              "Hello, yes, who is this please?", "Morning, accounts department, Sarah speaking.",
              "Hello, this is Kumar.", "Hi, Lisa speaking, go on."]
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
    "Thank you for calling Sunrise Travels. All our agents are busy. Your call is important to us, "
    "please stay on the line or leave a message with your booking number.",
    "Namaste, you have reached Gupta and Sons. We are closed for the festival and will reopen on "
    "Monday morning. Please leave your name, number and a short message.",
]
BEEP_FREQS = [440.0, 600.0, 850.0, 1000.0, 1400.0, 1950.0]
NOISE_KINDS = ["white", "pink", "babble", "hum", "street"]
NOISE_LEVELS = [-50, -45, -40, -35, -30, -25]
SPEECH_LEVELS = [-6, -12, -15, -20, -25]
LOSSES = [1, 2, 3, 5]
# share of clips per kind (label): human answers, greetings, greetings + beep, greetings + look-alike
KINDS = {"human_short": 20, "human_long": 20, "machine": 22, "beep": 28, "negative": 10}
AXES = {"nominal": 20, "level": 30, "noise": 35, "loss": 15}


def conditions(axis: str, i: int) -> dict[str, object]:
    """The i-th condition of an axis (cycling through its values)."""
    base: dict[str, object] = {"axis": axis, "level_db": 0, "noise": "white", "noise_dbfs": -65, "loss_pct": 0}
    if axis == "level":
        base["level_db"] = SPEECH_LEVELS[i % len(SPEECH_LEVELS)]
    elif axis == "noise":
        base["noise"] = NOISE_KINDS[i % len(NOISE_KINDS)]
        base["noise_dbfs"] = NOISE_LEVELS[(i // len(NOISE_KINDS)) % len(NOISE_LEVELS)]
    elif axis == "loss":
        base["loss_pct"] = LOSSES[i % len(LOSSES)]
    return base


def spread(shares: dict[str, int], count: int) -> list[str]:
    """`count` names in proportion to `shares`."""
    total = sum(shares.values())
    out = [name for name, share in shares.items() for _ in range(round(count * share / total))]
    return (out * 2)[:count]


def speak(text: str, voice: str, rate: int, cache: Path) -> np.ndarray:
    return samples(read_pcm(synthesize(text, cache, voice=voice, rate=rate)))


def make_clip(rng: random.Random, kind: str, cond: dict[str, object], cache: Path,
              babblers: list[np.ndarray]) -> tuple[np.ndarray, dict[str, object]]:
    voice, speed = rng.choice(VOICES), rng.choice(SPEEDS)
    texts = {"human_short": HUMAN_SHORT, "human_long": HUMAN_LONG}.get(kind, MACHINE)
    text = rng.choice(texts)
    speech_dbfs = NOMINAL_DBFS + float(cond["level_db"]) + rng.uniform(-2, 2)  # type: ignore[arg-type]
    speech = speak(text, voice, speed, cache)
    speech *= 10 ** ((speech_dbfs - active_level(speech)) / 20)
    meta: dict[str, object] = {"voice": voice, "rate": speed, "text": text, "tail": "silence"}
    human = kind.startswith("human")
    parts = [silence(rng.uniform(200, 1500) if human else rng.uniform(150, 900))]
    if not human and rng.random() < 0.3:  # a greeting over a music bed, or after a music intro
        if rng.random() < 0.5:
            speech = speech + at_level(music(speech.size * 1000 / 8000, rng, 0), speech_dbfs - 15)
            meta["tail"] = "music bed"
        else:
            parts.append(music(rng.uniform(1500, 3000), rng, speech_dbfs - 6))
            meta["tail"] = "music intro"
    parts.append(speech)
    label = "HUMAN" if human else "MACHINE"
    if human:
        parts.append(silence(3500))
    elif kind == "beep":
        freq, rel, length = rng.choice(BEEP_FREQS), rng.choice([9.0, 3.0, -6.0]), rng.choice([250, 400, 600, 1000])
        parts += [silence(rng.uniform(250, 1200)), sine(freq, length, speech_dbfs + rel), silence(2500)]
        meta["tail"] += f"; beep {freq:.0f}Hz {rel:+.0f}dB {length}ms"
        label = "BEEP"
    elif kind == "negative":
        which = rng.choice(["sit", "hum", "music"])
        gap = silence(rng.uniform(200, 800))
        if which == "sit":
            parts += [gap, sit(speech_dbfs + rng.choice([3.0, 9.0])), silence(2500)]
        elif which == "hum":
            parts += [gap, hum_signal(24000, rng.choice([50.0, 60.0]), speech_dbfs), silence(1000)]
        else:
            parts += [gap, music(4000, rng, speech_dbfs), silence(1000)]
        meta["tail"] += f"; {which}"
    else:
        parts.append(silence(3500))
    x = np.concatenate(parts)
    gen = np.random.default_rng(rng.randrange(2**32))
    x = x + noise(str(cond["noise"]), x.size, float(cond["noise_dbfs"]), gen,  # type: ignore[arg-type]
                  rng.sample(babblers, 4))
    codec = rng.choice([g711.Codec.PCMU, g711.Codec.PCMA])
    x = g711_line(x, codec, float(cond["loss_pct"]) / 100, gen)  # type: ignore[arg-type]
    meta["codec"] = codec.name
    return x, {"label": label, **cond, **meta}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="var/amd-hard")
    ap.add_argument("--count", type=int, default=400)
    ap.add_argument("--seed", type=int, default=18)
    args = ap.parse_args(argv)
    out = Path(args.out)
    cache = out / "tts"
    (out / "clips").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    kinds, axes = spread(KINDS, args.count), spread(AXES, args.count)
    rng.shuffle(kinds)
    rng.shuffle(axes)
    babblers = [speak(t, v, 170, cache) for t, v in zip(MACHINE[:6], VOICES[6:12], strict=True)]
    seen: dict[str, int] = defaultdict(int)
    groups: dict[tuple[str, str], int] = defaultdict(int)
    rows = []
    for i, (kind, axis) in enumerate(zip(kinds, axes, strict=True)):
        cond = conditions(axis, seen[axis])
        seen[axis] += 1
        x, meta = make_clip(rng, kind, cond, cache, babblers)
        name = f"clips/amd-{i:04d}.wav"
        write_pcm(out / name, to_pcm(x))
        split = "tune" if groups[(kind, axis)] % 2 == 0 else "test"
        groups[(kind, axis)] += 1
        rows.append({"file": name, "split": split, "kind": kind, **meta})
        if i % 50 == 0:
            print(f"{i}/{len(kinds)}", file=sys.stderr)
    with open(out / "labels.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} clips to {out}")


if __name__ == "__main__":
    main()
