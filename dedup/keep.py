"""Which document of a near-duplicate cluster stays: a documented, selectable rule.

`edu_score`: the highest education score (the `edu` annotator's label); ties go to the first
document. When any member has no score (annotations missing for its id), ranking part of the
cluster by score would be arbitrary, so the cluster falls back to `first` and says so in
`dup_rule` ("first_fallback") and in the job summary.
`first`: the document that comes first in the corpus (part file, then row): the earliest
ingested copy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

RULE_FIRST = "first"
RULE_EDU = "edu_score"
RULE_FALLBACK = "first_fallback"


def choose_kept(members: Iterable[tuple[int, float | None]], rule: str) -> tuple[int, str]:
    """(key of the kept member, rule that decided) from (document key, edu score or None)."""
    first_key: int | None = None
    best: tuple[float, int] | None = None
    missing = False
    for key, score in members:
        if first_key is None or key < first_key:
            first_key = key
        if score is None or (isinstance(score, float) and math.isnan(score)):
            missing = True
        elif best is None or (-score, key) < (-best[0], best[1]):
            best = (score, key)
    if first_key is None:
        raise ValueError("a cluster without members")
    if rule == RULE_FIRST:
        return first_key, RULE_FIRST
    if missing or best is None:
        return first_key, RULE_FALLBACK
    return best[1], RULE_EDU


class ClusterSummary:
    """What a cluster needs to settle, gathered one member at a time in bounded memory (so a
    cluster of millions of boilerplate pages never sits in one place): size, the first
    member, the best-scored member, whether a score is missing. `merge` combines partial
    summaries in any order with the same result (the rule above, applied incrementally)."""

    __slots__ = ("best", "first", "missing", "size")

    def __init__(self) -> None:
        self.size = 0
        self.first: tuple[int, str, bytes] | None = None  # (key, id, signature)
        self.best: tuple[float, int, bytes] | None = None  # (-score, key, signature)
        self.missing = False

    def add(self, key: int, doc_id: str, score: float | None, sig: bytes) -> ClusterSummary:
        self.size += 1
        if self.first is None or key < self.first[0]:
            self.first = (key, doc_id, sig)
        if score is None or math.isnan(score):
            self.missing = True
        elif self.best is None or (-score, key) < self.best[:2]:
            self.best = (-score, key, sig)
        return self

    def merge(self, other: ClusterSummary) -> ClusterSummary:
        self.size += other.size
        self.missing = self.missing or other.missing
        if other.first is not None and (self.first is None or other.first[0] < self.first[0]):
            self.first = other.first
        if other.best is not None and (self.best is None or other.best[:2] < self.best[:2]):
            self.best = other.best
        return self

    def kept(self, rule: str) -> tuple[int, bytes, str]:
        """(key, signature, rule that decided) of the kept member; the same as `choose_kept`."""
        if self.first is None:
            raise ValueError("a cluster without members")
        if rule == RULE_FIRST:
            return self.first[0], self.first[2], RULE_FIRST
        if self.missing or self.best is None:
            return self.first[0], self.first[2], RULE_FALLBACK
        return self.best[1], self.best[2], RULE_EDU
