"""Word error counting for speech tests."""

from __future__ import annotations


def errors(ref: str, hyp: str) -> int:
    """Word-level edit distance between a reference and a hypothesis."""
    r, h = ref.split(), hyp.split()
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[-1]
