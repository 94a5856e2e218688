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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.speech.audio import spoken
from tests.speech.wer import errors

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


def run(items: list[tuple[str, str]]) -> dict[tuple[str, str], list[float]]:
    """Per (condition, on/off the menu): [errors, reference words, utterances, exactly right, seconds]."""
    totals: dict[tuple[str, str], list[float]] = {}
    for text, menu in items:
        where = "on the menu" if any(p in text for p in MENUS[menu]) else "off the menu"
        for voice, rate in VOICES:
            pcm = spoken(text, voice, rate)
            for name, hints in (("no hints", ()), ("hints", MENUS[menu])):
                started = time.perf_counter()
                found = sphinx.recognise_blocking(pcm, 8000, tuple(hints))[0]
                took = time.perf_counter() - started
                wrong = errors(text, found)
                t = totals.setdefault((name, where), [0, 0, 0, 0, 0.0])
                for i, value in enumerate((wrong, len(text.split()), 1, wrong == 0, took)):
                    t[i] += value
                print(f"{name:8} {voice:9} {rate} {text!r:32} -> {found!r}", file=sys.stderr)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("test", "dev"), default="test")
    parser.add_argument("--hint-margin", type=float, default=None, help="override HINT_MARGIN (tuning on dev)")
    args = parser.parse_args()
    if args.hint_margin is not None:
        sphinx.HINT_MARGIN = args.hint_margin
    items = TEST if args.set == "test" else DEV
    sphinx.recognise_blocking(spoken("hello", "en-us", 160), 8000, ())  # load the model before timing
    results = run(items)
    print(
        f"set={args.set} sentences={len(items)} utterances={len(items) * len(VOICES)} hint_margin={sphinx.HINT_MARGIN}"
    )
    print("| answers | hints | word accuracy (1 - WER) | WER | utterances exactly right | mean decode time |")
    print("|---|---|---|---|---|---|")
    for (name, where), (wrong, words, count, right, seconds) in sorted(results.items(), key=lambda kv: kv[0][::-1]):
        print(
            f"| {where} | {name} | {1 - wrong / words:.1%} ({int(words - wrong)}/{int(words)} words) "
            f"| {wrong / words:.1%} | {int(right)}/{int(count)} | {seconds / count * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    main()
