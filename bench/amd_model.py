"""Can a small fitted model over the greeting's rhythm decide sooner or better than the rules? (issue 18)

    PYTHONPATH=src python bench/amd_model.py [--corpus var/amd-hard] [--split tune|test]

Fits a logistic regression on the tune half only: one sample per clip every 250 ms of greeting from
1.0 to 3.0 s (until a 700 ms pause ends it), label MACHINE (machine, beep, negative clips) or HUMAN,
features = greeting length so far, spoken share, pauses per second, longest pause, words per second,
current pause and SNR (standardised; numpy gradient descent, L2 1.0). The greeting judge with its
chosen defaults is then replayed with one more rule: at every 250 ms mark from 1.5 s of greeting on,
MACHINE (reason MODEL) when the model's probability reaches theta. Prints the fitted coefficients,
accuracy over the aim's conditions and first-verdict p50 per theta and greeting limit on --split
(choose on tune; test once per reported row), and the length bound: when every human greeting ends
with 500 ms of silence and every machine is called at a fixed greeting length T, what p50 and how
many long human answers (greeting >= T) that costs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from amd_eval import in_aim, load
from amd_tune import beep_at, flags, replay

from legato.domain.leg import AnsweredBy
from legato.media.amd_greeting import GreetingJudge
from legato.media.amd_params import AmdParams, AmdVerdict

MARKS = range(1000, 3001, 250)
OPEN = AmdParams(greeting_ms=10**6, steady_greeting_ms=0, short_answer_ms=0, maximum_word_length_ms=10**6,
                 after_greeting_silence_ms=10**6, initial_silence_ms=10**6, total_analysis_time_ms=10**6)
NAMES = ["greeting s", "spoken share", "pauses/s", "longest pause s", "words/s", "current pause s", "SNR/40"]


def features(j: GreetingJudge, g_ms: int) -> list[float]:
    r, s = j.rhythm, g_ms / 1000
    return [s, r.spoken_ms / max(g_ms, 1), r.pauses / s, r.longest_pause_ms / 1000, j.words / s,
            j.silence_run_ms / 1000, min(j.snr_db or 0.0, 40.0) / 40]


def greeting_ms(j: GreetingJudge) -> int | None:
    return None if j.rhythm.start_ms is None else j.elapsed_ms - j.rhythm.start_ms


def samples(hops: list[tuple[bool, float, bool]]) -> tuple[list[list[float]], int | None, int | None]:
    """Features at each mark, the greeting's start and its length up to its first 700 ms pause."""
    j, out = GreetingJudge(OPEN), []
    for speech, snr, nucleus in hops:
        j.step(speech, snr, nucleus)
        g = greeting_ms(j)
        if j.words and j.silence_run_ms >= 700:
            return out, j.rhythm.start_ms, (g or 0) - j.silence_run_ms
        if g in MARKS:
            out.append(features(j, g))
    return out, j.rhythm.start_ms, None


class Logistic:
    """Standardised logistic regression, fitted by gradient descent."""

    def __init__(self, x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 5000) -> None:
        self.mu, self.sd = x.mean(0), x.std(0) + 1e-9
        z = np.c_[np.ones(len(x)), (x - self.mu) / self.sd]
        w = np.zeros(z.shape[1])
        for _ in range(steps):
            p = 1 / (1 + np.exp(-z @ w))
            w -= 0.5 * (z.T @ (p - y) + l2 * np.r_[0.0, w[1:]]) / len(y)
        self.w = w

    def __call__(self, f: list[float]) -> float:
        z = (np.asarray(f) - self.mu) / self.sd
        return float(1 / (1 + np.exp(-(self.w[0] + z @ self.w[1:]))))


class ModelJudge(GreetingJudge):
    """The greeting judge plus: MACHINE (MODEL) when the model is at least `theta` sure at a 250 ms mark."""

    def __init__(self, params: AmdParams, model: Logistic, theta: float) -> None:
        super().__init__(params)
        self.model, self.theta = model, theta

    def step(self, speech: bool, snr_db: float | None = None, nucleus: bool = False) -> AmdVerdict | None:
        verdict = super().step(speech, snr_db, nucleus)
        g = greeting_ms(self)
        if verdict is None and g is not None and g >= 1500 and g % 250 == 0 and self.silence_run_ms == 0 \
                and self.model(features(self, g)) >= self.theta:
            return self.verdict(AnsweredBy.MACHINE, "MODEL")
        return verdict


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="var/amd-hard")
    ap.add_argument("--split", default="tune", choices=["tune", "test"])
    args = ap.parse_args(argv)
    tune = [(row, flags(pcm, 8, 5)) for row, pcm in load(Path(args.corpus), "tune")]
    x, y = [], []
    for row, hops in tune:
        feats = samples(hops)[0]
        x += feats
        y += [float(row["label"] != "HUMAN")] * len(feats)
    model = Logistic(np.array(x), np.array(y))
    print("coefficients (standardised):", ", ".join(f"{n} {w:+.2f}" for n, w in zip(["bias", *NAMES], model.w,
                                                                                          strict=True)))
    print("means:", np.round(model.mu, 3).tolist(), "sds:", np.round(model.sd, 3).tolist())
    clips = tune if args.split == "tune" else [(r, flags(p, 8, 5)) for r, p in load(Path(args.corpus), "test")]
    raw = {r["file"]: p for r, p in load(Path(args.corpus), args.split)}
    beeps = [beep_at(raw[row["file"]]) for row, _ in clips]
    n_aim = sum(in_aim(row) for row, _ in clips)
    print(f"| theta | greeting limit | right in the aim's conditions ({args.split}) | all | first verdict p50 |")
    print("|---|---|---|---|---|")
    for theta in (1.01, 0.95, 0.9, 0.85, 0.8):
        for limit in (3000, 3500):
            params = AmdParams(greeting_ms=limit)
            answers = [replay(h, b, params, ModelJudge(params, model, theta)) for (_, h), b in zip(clips, beeps,
                                                                                                  strict=True)]
            right = [a == row["label"] for (row, _), (a, _) in zip(clips, answers, strict=True)]
            aim = sum(r for (row, _), r in zip(clips, right, strict=True) if in_aim(row))
            p50 = np.median([ms for _, ms in answers]) / 1000
            label = "off" if theta > 1 else f"{theta:.2f}"
            print(f"| {label} | {limit / 1000:.1f} s | {aim}/{n_aim} | {sum(right)}/{len(clips)} | {p50:.2f} s |")
    lengths = [(row, *samples(h)[1:]) for row, h in clips]
    print("\nlength bound (humans decided 500 ms after their greeting, machines at greeting length T):")
    for t in (1500, 2000, 2500, 3000):
        times, lost, longs = [], 0, 0
        for row, start, length in lengths:
            if start is None:
                continue
            human = row["label"] == "HUMAN"
            longs += row["kind"] == "human_long"
            if human and length is not None and length < t:
                times.append(start + length + 500)
            else:
                times.append(start + t)
                lost += human and row["kind"] == "human_long"
        print(f"  T {t / 1000:.1f} s: p50 {np.median(times) / 1000:.2f} s, long human answers called MACHINE "
              f"{lost}/{longs}")


if __name__ == "__main__":
    main()
