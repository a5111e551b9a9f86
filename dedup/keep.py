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
