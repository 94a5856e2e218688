"""A small bigram language model (ARPA text) from hint phrases, for the engine's hint search."""

from __future__ import annotations

import itertools
import math
from collections import Counter

FOLLOW = 0.95  # the chance that a hint word is followed as in its phrase (else back off to any word; tuned on DEV)


def arpa(phrases: tuple[str, ...]) -> str:
    """An ARPA bigram LM: each phrase's word sequence likely, any sequence of hint words possible.

    `</s>` only follows a phrase's last word, so silence alone is never the best reading."""
    sentences = [["<s>", *p.split(), "</s>"] for p in phrases]
    words = sorted({w for s in sentences for w in s[1:-1]})
    bigrams = Counter((a, b) for s in sentences for a, b in itertools.pairwise(s))
    starts = Counter(a for a, _ in bigrams.elements())
    vocab = [*words, "</s>", "<s>"]
    uni = math.log10(1 / (len(words) + 1))
    backoff = math.log10(1 - FOLLOW)
    lines = ["\\data\\", f"ngram 1={len(vocab)}", f"ngram 2={len(bigrams)}", "", "\\1-grams:"]
    for word in vocab:
        prob = -99.0 if word in ("<s>", "</s>") else uni
        lines.append(f"{prob:.4f} {word}" + ("" if word == "</s>" else f" {backoff:.4f}"))
    lines += ["", "\\2-grams:"]
    for (a, b), n in sorted(bigrams.items()):
        lines.append(f"{math.log10(FOLLOW * n / starts[a]):.4f} {a} {b}")
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
