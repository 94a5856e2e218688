"""Word accuracy (1 - WER) of the speech recogniser on espeak-ng sentences at telephone quality.

Each sentence is spoken by espeak-ng in several voices and rates, resampled to 8 kHz, sent through
G.711 mu-law and back (what a SIP call carries), then recognised with and without the hints an IVR
prompt would give (its menu: the answer among distractors). The test sentences are held apart: the
engine's one tuned figure (HINT_MARGIN) was chosen on DEV only (`--set dev`). A few answers are off
the menu, to show what hints cost when the caller says something else.

    PYTHONPATH=src python bench/speech_accuracy.py [--set test|dev] [--hint-margin X]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from legato.media import g711
from legato.speech import sphinx

VOICES = [("en-us", 150), ("en-us+m3", 175), ("en-us+f2", 140)]
MENUS = {
    "bank": ["check my balance", "make a payment", "report a lost card", "speak to an agent", "open an account"],
    "support": ["billing", "technical support", "sales", "cancel my order", "track my package"],
    "confirm": ["yes", "no", "repeat that", "main menu"],
    "travel": ["book a flight", "change my reservation", "baggage", "flight status", "cancel my booking"],
    "account": ["reset my password", "update my address", "close my account", "talk to a person"],
}
TEST = [  # (what the caller says, the prompt's menu)
    ("check my balance", "bank"),
    ("i want to make a payment", "bank"),
    ("speak to an agent please", "bank"),
    ("billing", "support"),
    ("technical support", "support"),
    ("track my package", "support"),
    ("yes", "confirm"),
    ("no", "confirm"),
    ("main menu", "confirm"),
    ("book a flight", "travel"),
    ("flight status please", "travel"),
    ("baggage", "travel"),
    ("reset my password", "account"),
    ("talk to a person", "account"),
    ("the weather is nice today", "support"),
    ("my dog ate my homework", "bank"),
]
DEV = [
    ("report a lost card", "bank"),
    ("open an account", "bank"),
    ("sales", "support"),
    ("cancel my order please", "support"),
    ("repeat that", "confirm"),
    ("change my reservation", "travel"),
    ("cancel my booking", "travel"),
    ("update my address", "account"),
    ("close my account", "account"),
    ("i like green apples", "travel"),
    ("call me tomorrow morning", "account"),
]


def speak(text: str, voice: str, rate: int) -> bytes:
    """8 kHz 16-bit PCM of `text` after a G.711 mu-law round trip."""
    raw = subprocess.run(
        [
            "sh",
            "-c",
            'espeak-ng -v "$1" -s "$2" --stdout -- "$3" | sox -t wav - -r 8000 -c 1 -b 16 -e signed-integer -t raw -',
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


def errors(ref: str, hyp: str) -> int:
    """Word-level edit distance."""
    r, h = ref.split(), hyp.split()
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[-1]


def run(items: list[tuple[str, str]]) -> dict[str, tuple[int, int, int, float]]:
    """Per condition: (errors, reference words, sentences exactly right, seconds per utterance)."""
    totals = {"no hints": [0, 0, 0, 0.0], "hints": [0, 0, 0, 0.0]}
    for text, menu in items:
        for voice, rate in VOICES:
            pcm = speak(text, voice, rate)
            for name, hints in (("no hints", ()), ("hints", MENUS[menu])):
                started = time.perf_counter()
                found = sphinx.recognise_blocking(pcm, 8000, tuple(hints))[0]
                took = time.perf_counter() - started
                wrong = errors(text, found)
                t = totals[name]
                t[0] += wrong
                t[1] += len(text.split())
                t[2] += wrong == 0
                t[3] += took
                print(f"{name:8} {voice:9} {rate} {text!r:32} -> {found!r}", file=sys.stderr)
    n = len(items) * len(VOICES)
    return {k: (int(v[0]), int(v[1]), int(v[2]), v[3] / n) for k, v in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("test", "dev"), default="test")
    parser.add_argument("--hint-margin", type=float, default=None, help="override HINT_MARGIN (tuning on dev)")
    args = parser.parse_args()
    if args.hint_margin is not None:
        sphinx.HINT_MARGIN = args.hint_margin
    items = TEST if args.set == "test" else DEV
    sphinx.recognise_blocking(speak("hello", "en-us", 160), 8000, ())  # load the model before timing
    results = run(items)
    print(
        f"set={args.set} sentences={len(items)} utterances={len(items) * len(VOICES)} hint_margin={sphinx.HINT_MARGIN}"
    )
    print("| condition | word accuracy (1 - WER) | sentences exactly right | mean decode time |")
    print("|---|---|---|---|")
    for name, (wrong, words, right, seconds) in results.items():
        print(
            f"| {name} | {1 - wrong / words:.1%} ({words - wrong}/{words} words) | {right}/{len(items) * len(VOICES)} "
            f"| {seconds * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
