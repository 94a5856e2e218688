"""Choose the adaptive AMD's parameters on the tune half of the corpus (never the test half).

    PYTHONPATH=src python bench/amd_tune.py [--corpus var/amd-hard] [--extra var/amd-extra]

The line analysis (speech flags per 10 ms, beep reports) is computed once per clip and speech
threshold; the greeting judge is then replayed over a grid of greeting parameters (including the
rhythm rules: steady greeting, short answer), which gives the
same answers as running the whole detector. Rule: the best accuracy over the aim's conditions (speech
down to -20 dB, noise up to -30 dBFS); among settings within one clip of it, the smallest median first
verdict (ties: the shorter greeting limit, which holds machine greetings of 3-3.5 s). Prints the grid, best first.
The replay leaves out the word look-ups (`words_ms`, `words_late_ms`, `person_hold_ms`: they need the
recogniser) and the late beep after HUMAN
(`beep_after_human_ms`); measure those with bench/amd_eval.py --split tune --params '{...}'.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
from amd_eval import in_aim, load

from legato.domain.leg import AnsweredBy
from legato.media.amd import BEEP_SETTINGS
from legato.media.amd_greeting import GreetingJudge
from legato.media.amd_levels import HOP, LineAnalyzer
from legato.media.amd_params import AmdParams
from legato.media.amd_syllables import SyllableCounter
from legato.media.beep import BeepDetector

SNR = [(8, 5), (10, 6), (12, 7)]
# word gaps (50 ms) and word length (100 ms) as chosen in the first round (50/100 x 100/150 ms tried)
GRID = {"greeting_ms": [2500, 3000, 3500], "after_greeting_silence_ms": [600, 700, 800],
        "greeting_syllables": [0, 12],
        "steady_greeting_ms": [0, 1500, 1800, 2000], "steady_pause_ms": [150, 200],
        "short_answer_ms": [0, 500, 800], "maximum_word_length_ms": [1000, 5000]}


def flags(pcm: bytes, on: int, hold: int) -> list[tuple[bool, float, bool]]:
    """(speech, SNR, syllable nucleus) per 10 ms hop."""
    line, syllables = LineAnalyzer(on, hold), SyllableCounter()
    x = np.frombuffer(pcm, "<i2")
    out = []
    for i in range(0, x.size - HOP + 1, HOP):
        hop = line.step(x[i:i + HOP])
        out.append((hop.speech, line.snr_db(), syllables.step(hop.energy_db, hop.speech)))
    return out


def beep_at(pcm: bytes) -> int | None:
    det = BeepDetector(**BEEP_SETTINGS["adaptive"])  # type: ignore[arg-type]
    for i in range(0, len(pcm), 320):
        if det.feed(pcm[i:i + 320]):
            return det.now_ms
    return None


def replay(hops: list[tuple[bool, float, bool]], beep: int | None, params: AmdParams,
           judge: GreetingJudge | None = None) -> tuple[str, int]:
    """The clip's final answer and first-verdict time from its speech flags (`judge`: a GreetingJudge
    subclass to replay instead of the plain one)."""
    judge = judge or GreetingJudge(params)
    for speech, snr, nucleus in hops:
        at_frame_end = (judge.elapsed_ms + 10) % 20 == 0
        if beep is not None and at_frame_end and judge.elapsed_ms + 10 >= beep:
            return "BEEP", beep  # a beep before any verdict
        verdict = judge.step(speech, snr, nucleus)
        if verdict is not None:
            if verdict.answered_by is AnsweredBy.MACHINE and beep is not None and \
                    beep <= verdict.decision_ms + params.beep_timeout_ms:
                return "BEEP", verdict.decision_ms
            return verdict.answered_by.value, verdict.decision_ms
    return "NONE", judge.elapsed_ms


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="var/amd-hard")
    ap.add_argument("--extra", action="append", default=[], help="another corpus, all of it tune data")
    args = ap.parse_args(argv)
    clips = load(Path(args.corpus), "tune", [Path(e) for e in args.extra])
    beeps = [beep_at(pcm) for _, pcm in clips]
    results = []
    for on, hold in SNR:
        hops = [flags(pcm, on, hold) for _, pcm in clips]
        for values in itertools.product(*GRID.values()):
            setting = dict(zip(GRID, values, strict=True))
            params = AmdParams(speech_snr_db=on, hold_snr_db=hold, **setting)
            answers = [replay(h, b, params) for h, b in zip(hops, beeps, strict=True)]
            right = [a == row["label"] for (row, _), (a, _) in zip(clips, answers, strict=True)]
            aim = [r for (row, _), r in zip(clips, right, strict=True) if in_aim(row)]
            p50 = float(np.median([ms for _, ms in answers]))
            results.append((sum(aim), sum(right), p50, {"speech_snr_db": on, "hold_snr_db": hold, **setting}))
    best = max(r[0] for r in results)
    chosen = min((r for r in results if r[0] >= best - 1), key=lambda r: (r[2], r[3]["greeting_ms"], -r[0]))
    results.sort(key=lambda r: (-r[0], r[2]))
    n_aim = sum(in_aim(row) for row, _ in clips)
    for aim, right, p50, setting in results[:25]:
        print(f"aim {aim}/{n_aim} all {right}/{len(clips)} p50 {p50 / 1000:.2f}s {setting}")
    print("chosen:", chosen[3], f"aim {chosen[0]}/{n_aim} all {chosen[1]}/{len(clips)} p50 {chosen[2] / 1000:.2f}s")


if __name__ == "__main__":
    main()
