"""Evaluate answering-machine detection on the generated corpus (see bench/amd_corpus.py).

    PYTHONPATH=src python bench/amd_eval.py [--corpus var/amd-corpus] [--split test] [--params '{...}']

The final answer of a sample is BEEP when a beep was reported, else the first verdict. Prints the
confusion matrix, accuracy, decision-time percentiles and the misclassified samples.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from legato.media.amd import AmdDetector
from legato.media.amd_params import AmdParams
from legato.media.wavfile import read_pcm

LABELS = ["HUMAN", "MACHINE", "BEEP"]


def classify(pcm: bytes, params: AmdParams) -> tuple[str, int, int | None, str]:
    """(final answer, first decision ms, beep report ms, reason) for one recording."""
    det = AmdDetector(params)
    verdicts = []
    for i in range(0, len(pcm), 320):
        verdicts += det.feed(pcm[i:i + 320])
        if det.done:
            break
    if not verdicts:
        return "NONE", -1, None, "none"
    first = verdicts[0]
    beep = next((v for v in verdicts if v.answered_by.value == "BEEP"), None)
    answer = "BEEP" if beep else first.answered_by.value
    return answer, first.decision_ms, beep.decision_ms if beep else None, first.reason


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="var/amd-corpus")
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--preset", default="default", choices=["default", "tuned"],
                    help="app_amd defaults, or AmdParams.tuned()")
    ap.add_argument("--params", default="{}", help="AmdParams overrides as JSON")
    args = ap.parse_args(argv)
    base = AmdParams.tuned() if args.preset == "tuned" else AmdParams()
    params = AmdParams.from_dict({**base.to_dict(), **json.loads(args.params)})
    corpus = Path(args.corpus)
    with open(corpus / "labels.csv") as f:
        rows = [r for r in csv.DictReader(f) if args.split in ("all", r["split"])]
    confusion: Counter[tuple[str, str]] = Counter()
    first_ms: list[int] = []
    beep_ms: list[int] = []
    wrong = []
    frames = 0
    started = time.perf_counter()
    for row in rows:
        pcm = read_pcm(corpus / row["file"])
        frames += len(pcm) // 320
        answer, decided, beep_at, reason = classify(pcm, params)
        confusion[(row["label"], answer)] += 1
        first_ms.append(decided)
        if beep_at is not None:
            beep_ms.append(beep_at)
        if answer != row["label"]:
            wrong.append((row["file"], row["label"], answer, reason, row["kind"], row["tail"],
                          row["text"][:40]))
    elapsed = time.perf_counter() - started
    n = len(rows)
    correct = sum(confusion[(lab, lab)] for lab in LABELS)
    cols = [*LABELS, "NONE"] if any(k[1] == "NONE" for k in confusion) else LABELS
    print(f"preset={args.preset} split={args.split} samples={n} accuracy={correct / n:.1%} ({correct}/{n})")
    print("truth \\ verdict | " + " | ".join(f"{c:>7}" for c in cols))
    for lab in LABELS:
        print(f"{lab:>15} | " + " | ".join(f"{confusion[(lab, c)]:>7}" for c in cols))
    human_machine = sum(confusion[(t, a)] for t in LABELS for a in LABELS
                        if (t == "HUMAN") == (a == "HUMAN"))
    print(f"HUMAN vs machine (MACHINE+BEEP) accuracy: {human_machine / n:.1%}")
    p = np.percentile(first_ms, [50, 90, 95, 99])
    print(f"first verdict ms: p50={p[0]:.0f} p90={p[1]:.0f} p95={p[2]:.0f} p99={p[3]:.0f} "
          f"max={max(first_ms)}")
    if beep_ms:
        q = np.percentile(beep_ms, [50, 90])
        print(f"BEEP verdict ms (from answer): p50={q[0]:.0f} p90={q[1]:.0f}")
    print(f"detector cost: {elapsed / max(frames, 1) * 1e6:.1f} us per 20 ms frame ({frames} frames)")
    for w in wrong:
        print("  wrong:", *w)


if __name__ == "__main__":
    main()
