"""Evaluate answering-machine detection on the corpus of bench/amd_corpus.py.

    PYTHONPATH=src python bench/amd_eval.py [--corpus var/amd-hard] [--split test] [--preset adaptive]
        [--params '{...}'] [--markdown] [--extra var/amd-extra]

--extra adds every clip of another corpus built by bench/amd_corpus.py under another seed (e.g.
`--out var/amd-extra --count 800 --seed 1818`) to the tune half: more tune data, the test half untouched.

The final answer of a clip is BEEP when a beep was reported, else the first verdict. Prints accuracy
over all clips and over the aim's conditions (speech down to -20 dB, noise up to -30 dBFS), by class,
by condition (level, noise level, noise kind, loss), the confusion matrix, first-verdict p50/p90, false
BEEPs and the wrong clips (of the test half only with --show-wrong); --markdown prints the tables for
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from legato.media.amd import AmdDetector
from legato.media.amd_params import AmdParams
from legato.media.amd_words import PHRASES
from legato.media.wavfile import read_pcm

LABELS = ["HUMAN", "MACHINE", "BEEP"]
PRESETS: dict[str, Callable[[], AmdParams]] = {"adaptive": AmdParams, "app_amd": AmdParams.app_amd}


@dataclass(frozen=True, slots=True)
class Outcome:
    row: dict[str, str]
    answer: str
    first_ms: int
    reason: str
    confidence: float | None
    frames: int

    @property
    def right(self) -> bool:
        return self.answer == self.row["label"]


WORDS_LATENCY_MS = 200  # the recogniser's answer reaches the detector this long after it asked
WORDS_CPU: list[float] = []  # CPU seconds of each word look-up


def spot(pcm: bytes) -> str:
    """The phrase spotter the media engine runs for AMD (in its worker process there; here, in this one);
    answers come from SPOT_CACHE when a file was given (--spot-cache: same audio, same answer)."""
    global _SPOTTER
    key = hashlib.sha1(pcm).hexdigest()
    if key in SPOT_CACHE:
        return SPOT_CACHE[key]
    if _SPOTTER is None:
        from legato.speech.sphinx import PocketsphinxRecogniser

        _SPOTTER = PocketsphinxRecogniser()
    started = time.process_time()
    text = _SPOTTER.recognise_here(pcm, 8000, PHRASES, hints_only=True).text
    WORDS_CPU.append(time.process_time() - started)
    SPOT_CACHE[key] = text
    return text


SPOT_CACHE: dict[str, str] = {}


_SPOTTER = None


def classify(pcm: bytes, params: AmdParams) -> tuple[str, int, str, float | None, int]:
    """(final answer, first decision ms, reason, confidence, frames fed) for one recording; a word look-up
    is answered WORDS_LATENCY_MS of audio after the detector asked for it."""
    det = AmdDetector(params)
    verdicts = []
    heard: list[tuple[int, str]] = []
    for i in range(0, len(pcm), 320):
        verdicts += det.feed(pcm[i:i + 320])
        if det.words_request is not None:
            heard.append((det.elapsed_ms + WORDS_LATENCY_MS, spot(det.words_request)))
            det.words_request = None
        while heard and det.elapsed_ms >= heard[0][0]:
            verdicts += det.heard(heard.pop(0)[1])
        if det.done:
            break
    frames = det.elapsed_ms // 20
    if not verdicts:
        return "NONE", -1, "none", None, frames
    first = verdicts[0]
    beep = any(v.answered_by.value == "BEEP" for v in verdicts)
    return ("BEEP" if beep else first.answered_by.value), first.decision_ms, first.reason, first.confidence, frames


def load(corpus: Path, split: str, extra: list[Path] | None = None) -> list[tuple[dict[str, str], bytes]]:
    """The clips of `split`; with `split` tune, also every clip of the `extra` corpora (tune-only data)."""
    with open(corpus / "labels.csv") as f:
        rows = [r for r in csv.DictReader(f) if split in ("all", r["split"])]
    clips = [(r, read_pcm(corpus / r["file"])) for r in rows]
    if split == "test" and extra:
        raise ValueError("--extra corpora are tune data only")
    for more in extra or []:
        with open(more / "labels.csv") as f:
            clips += [({**r, "split": "tune", "file": str(more / r["file"])}, read_pcm(more / r["file"]))
                      for r in csv.DictReader(f)]
    return clips


def evaluate(clips: list[tuple[dict[str, str], bytes]], params: AmdParams) -> list[Outcome]:
    return [Outcome(row, *classify(pcm, params)) for row, pcm in clips]


def in_aim(row: dict[str, str]) -> bool:
    """The aim's conditions: speech down to -20 dB, noise up to -30 dBFS."""
    return int(row["level_db"]) >= -20 and int(row["noise_dbfs"]) <= -30


def share(outcomes: list[Outcome]) -> str:
    n = len(outcomes)
    right = sum(o.right for o in outcomes)
    return f"{right / n:.1%} ({right}/{n})" if n else "-"


def groups(outcomes: list[Outcome], key: Callable[[dict[str, str]], str]) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        out[key(o.row)].append(o)
    return dict(out)


def summary(outcomes: list[Outcome]) -> dict[str, object]:
    first = [o.first_ms for o in outcomes]
    p50, p90 = np.percentile(first, [50, 90])
    false_beeps = [o for o in outcomes if o.answer == "BEEP" and o.row["label"] != "BEEP"]
    return {"all": share(outcomes), "aim": share([o for o in outcomes if in_aim(o.row)]),
            "nominal": share([o for o in outcomes if o.row["axis"] == "nominal"]),
            "p50": p50 / 1000, "p90": p90 / 1000, "false_beeps": len(false_beeps)}


def tables(outcomes: list[Outcome]) -> list[str]:
    """Markdown: by class, by condition, confusion."""
    lines = ["| class | right |", "|---|---|"]
    lines += [f"| {k} | {share(v)} |" for k, v in sorted(groups(outcomes, lambda r: r["kind"]).items())]
    lines += ["", "| condition | right |", "|---|---|"]
    axes: list[tuple[str, Callable[[dict[str, str]], str]]] = [
        ("nominal", lambda r: "nominal" if r["axis"] == "nominal" else ""),
        ("level", lambda r: f"speech {int(r['level_db']):+d} dB" if r["axis"] == "level" else ""),
        ("noise", lambda r: f"noise {r['noise_dbfs']} dBFS" if r["axis"] == "noise" else ""),
        ("kind", lambda r: f"{r['noise']} noise -50..-25 dBFS" if r["axis"] == "noise" else ""),
        ("loss", lambda r: f"loss {r['loss_pct']}%" if r["axis"] == "loss" else "")]
    for _, key in axes:
        found = groups(outcomes, key)
        ordered = sorted((k for k in found if k), key=lambda k: (len(k.split()[1]) if k[0] == "s" else 0, k))
        lines += [f"| {k} | {share(found[k])} |" for k in ordered]
    def band(o: Outcome) -> str:
        c = o.confidence or 0.0
        return "confidence >= 0.9" if c >= 0.9 else "confidence 0.75-0.9" if c >= 0.75 else "confidence < 0.75"
    lines += ["", "| first verdict's confidence | right |", "|---|---|"]
    bands: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        bands[band(o)].append(o)
    lines += [f"| {k} | {share(bands[k])} |" for k in ("confidence >= 0.9", "confidence 0.75-0.9", "confidence < 0.75")]
    confusion = Counter((o.row["label"], o.answer) for o in outcomes)
    cols = [*LABELS, *(["NONE"] if any(a == "NONE" for _, a in confusion) else [])]
    lines += ["", "| truth \\ verdict | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    lines += [f"| {lab} | " + " | ".join(str(confusion[(lab, c)]) for c in cols) + " |" for lab in LABELS]
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="var/amd-hard")
    ap.add_argument("--split", default="test", choices=["test", "tune", "all"])
    ap.add_argument("--preset", default="adaptive", choices=list(PRESETS))
    ap.add_argument("--params", default="{}", help="AmdParams overrides as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the BENCHMARKS.md tables")
    ap.add_argument("--extra", action="append", default=[], help="another corpus, all of it tune data")
    ap.add_argument("--show-wrong", action="store_true",
                    help="list the wrong clips of the test half too (by default its outcomes are shown in aggregate "
                         "only, so that nothing is chosen from its clips)")
    ap.add_argument("--outcomes", help="write each clip's outcome to this CSV (tune analysis)")
    ap.add_argument("--spot-cache", help="a JSON file of phrase-spotter answers by audio (faster reruns)")
    args = ap.parse_args(argv)
    cache = Path(args.spot_cache) if args.spot_cache else None
    if cache is not None and cache.exists():
        SPOT_CACHE.update(json.loads(cache.read_text()))
    params = AmdParams.from_dict({**PRESETS[args.preset]().to_dict(), **json.loads(args.params)})
    clips = load(Path(args.corpus), args.split, [Path(e) for e in args.extra])
    started = time.process_time()
    outcomes = evaluate(clips, params)
    elapsed = time.process_time() - started
    if cache is not None:
        cache.write_text(json.dumps(SPOT_CACHE))
    s = summary(outcomes)
    print(f"preset={args.preset} split={args.split} clips={len(outcomes)} right={s['all']} "
          f"aim-conditions={s['aim']} nominal={s['nominal']} p50={s['p50']:.2f}s p90={s['p90']:.2f}s "
          f"false BEEPs={s['false_beeps']}")
    frames = sum(o.frames for o in outcomes)
    words = sum(WORDS_CPU)
    print(f"cost: {elapsed - words:.1f} s CPU for {frames} frames fed, "
          f"{(elapsed - words) / max(frames, 1) * 1e6:.0f} us per 20 ms frame; {len(WORDS_CPU)} word look-ups decoded, "
          f"{words / max(len(WORDS_CPU), 1) * 1000:.0f} ms CPU each (the recogniser's worker process)")
    if args.outcomes and (args.split != "test" or args.show_wrong):
        with open(args.outcomes, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["file", "label", "answer", "first_ms", "reason", "confidence"])
            out.writerows([o.row["file"], o.row["label"], o.answer, o.first_ms, o.reason, o.confidence]
                          for o in outcomes)
    if args.markdown:
        print("\n".join(tables(outcomes)))
    for o in outcomes if args.split != "test" or args.show_wrong else []:
        if not o.right:
            r = o.row
            print(f"  wrong: {r['file']} {r['label']}->{o.answer} {o.reason} conf={o.confidence} "
                  f"{r['kind']} {r['axis']} lvl={r['level_db']} {r['noise']}@{r['noise_dbfs']} "
                  f"loss={r['loss_pct']} | {r['tail']} | {r['text'][:40]}")


if __name__ == "__main__":
    main()
