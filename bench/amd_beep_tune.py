"""Replay the beep detector over the AMD corpus against the greeting judge's verdicts (tune data only).

    PYTHONPATH=src python bench/amd_beep_tune.py [--corpus var/amd-hard] [--split tune]
        [--beep '{...}'] [--after-human-ms 0] [--after-human-confidence 1.0] [--list]

The judge's first verdicts (HUMAN / MACHINE and when) do not depend on the beep detector until a beep
is reported, so they are computed once (`detect_beep` off, word look-ups replayed as in amd_eval.py) and
kept in <corpus>/verdicts-<split>.json; each beep setting then costs one pass of the beep detector alone.
A clip ends BEEP when the detector's first beep comes before the verdict, or within `beep_timeout_ms`
after MACHINE, or within --after-human-ms after a HUMAN of at most --after-human-confidence. Prints
beeps heard, false BEEPs (every non-beep clip, also those a late listen would not reach), accuracy,
the misses, and the beep detector's CPU per 20 ms frame.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from amd_eval import classify, in_aim, load

from legato.media.amd import BEEP_SETTINGS
from legato.media.amd_params import AmdParams
from legato.media.beep import BeepDetector


def verdicts(corpus: Path, split: str, clips: list[tuple[dict[str, str], bytes]]) -> dict[str, list]:
    """file -> [answer, decision ms, confidence] of the judge alone (cached)."""
    path = corpus / f"verdicts-{split}.json"
    if path.exists():
        return json.loads(path.read_text())
    params = replace(AmdParams(), detect_beep=False)
    out = {}
    for row, pcm in clips:
        answer, first_ms, _, conf, _ = classify(pcm, params)
        out[row["file"]] = [answer, first_ms, conf]
    path.write_text(json.dumps(out))
    return out


def first_beep(pcm: bytes, settings: dict[str, float]) -> tuple[int | None, int]:
    """(when the first beep is reported in ms or None, frames fed)."""
    det = BeepDetector(**settings)  # type: ignore[arg-type]
    for i in range(0, len(pcm), 320):
        beeps = det.feed(pcm[i:i + 320])
        if beeps:
            return beeps[0].reported_ms, det.now_ms // 20
    return None, det.now_ms // 20


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="var/amd-hard")
    ap.add_argument("--split", default="tune", choices=["tune", "all"])
    ap.add_argument("--beep", default="{}", help="BeepDetector overrides of the adaptive settings, JSON")
    ap.add_argument("--after-human-ms", type=int, default=0)
    ap.add_argument("--after-human-confidence", type=float, default=1.0)
    ap.add_argument("--list", action="store_true", help="list missed beeps and false BEEPs")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    clips = load(corpus, args.split)
    judged = verdicts(corpus, args.split, clips)
    settings = {**BEEP_SETTINGS["adaptive"], **json.loads(args.beep)}
    timeout = AmdParams().beep_timeout_ms
    right = aim_right = aim_n = heard = beeps = false = frames = 0
    cpu = 0.0
    for row, pcm in clips:
        answer, decided, conf = judged[row["file"]]
        started = time.process_time()
        reported, n = first_beep(pcm, settings)
        cpu += time.process_time() - started
        frames += n
        listen = timeout if answer == "MACHINE" else \
            args.after_human_ms if answer == "HUMAN" and (conf or 0.5) <= args.after_human_confidence else 0
        final = answer
        if reported is not None and (reported < decided or reported - decided <= listen):
            final = "BEEP"
        if row["label"] == "BEEP":
            beeps += 1
            heard += final == "BEEP"
        elif reported is not None:  # a tone the detector took for a beep anywhere in a non-beep clip
            false += 1
            if args.list:
                print(f"  false: {row['file']} {row['kind']} {row['tail']} at {reported} ms, judge "
                      f"{answer}@{decided} {row['noise']}@{row['noise_dbfs']} loss={row['loss_pct']}")
        ok = final == row["label"]
        right += ok
        if in_aim(row):
            aim_n += 1
            aim_right += ok
        if args.list and row["label"] == "BEEP" and final != "BEEP":
            print(f"  missed: {row['file']} judge {answer}@{decided} conf={conf} beep@{reported} "
                  f"{row['axis']} lvl={row['level_db']} {row['noise']}@{row['noise_dbfs']} "
                  f"loss={row['loss_pct']} | {row['tail']}")
    print(f"beeps {heard}/{beeps}, false BEEPs {false} (a tone taken for a beep anywhere in a non-beep clip), "
          f"right {right}/{len(clips)}, aim's conditions {aim_right}/{aim_n}; beep detector "
          f"{cpu / max(frames, 1) * 1e6:.0f} us per frame")


if __name__ == "__main__":
    main()
