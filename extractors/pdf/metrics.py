"""Character error rate, for tests and the benchmark.

CER = Levenshtein distance / reference length, on whitespace-collapsed text (line breaks
and paragraph spacing are layout, not content). The distance uses Myers' bit-parallel
algorithm (Hyyrö's formulation) on Python integers: linear in the hypothesis length with
the reference as one bit vector, fast enough for whole documents.
"""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """Edit distance between `a` and `b` (insertions, deletions, substitutions)."""
    if not a:
        return len(b)
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    top = 1 << (len(a) - 1)
    pv, mv, score = full, 0, len(a)
    for ch in b:
        eq = masks.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def char_error_rate(reference: str, hypothesis: str) -> float:
    """Edit distance per reference character, whitespace runs collapsed to one space."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    return levenshtein(ref, hyp) / max(1, len(ref))
