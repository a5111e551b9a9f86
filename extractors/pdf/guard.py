"""The rewrite guard: keep an LLM's rewrite of a page only if it is still the same page.

A rewrite may fix recognition errors and drop leftover boilerplate; it must not drop
content, add content, summarize, translate, or follow instructions hidden in the page
("ignore previous instructions and ..."). Character n-gram overlap catches all of these
without a model: most n-grams of the source must survive (recall) and most n-grams of the
rewrite must come from the source (precision); the length must stay close and the script
the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpusmill.extractors.pdf.analysis import dominant_script
from corpusmill.extractors.pdf.textclean import is_cjk

GUARD_NAME = "ngram_guard"
GUARD_VERSION = "1"


@dataclass(frozen=True)
class GuardPolicy:
    min_recall: float = 0.6  # share of the source's n-grams found in the rewrite
    min_precision: float = 0.6  # share of the rewrite's n-grams found in the source
    min_length_ratio: float = 0.7  # rewrite length / source length
    max_length_ratio: float = 1.3
    ngram: int = 5  # characters; texts mostly in CJK use CJK_NGRAM
    cjk_ngram: int = 2


DEFAULT_GUARD = GuardPolicy()


def ngrams(text: str, n: int) -> set[str]:
    """Character n-grams of `text`, lowercased, whitespace collapsed."""
    flat = " ".join(text.lower().split())
    if len(flat) < n:
        return {flat} if flat else set()
    return {flat[i : i + n] for i in range(len(flat) - n + 1)}


def _ngram_size(text: str, policy: GuardPolicy) -> int:
    sample = [c for c in text[:2000] if not c.isspace()]
    cjk = sum(1 for c in sample if is_cjk(c))
    return policy.cjk_ngram if sample and cjk * 2 > len(sample) else policy.ngram


def check_rewrite(source: str, rewrite: str, policy: GuardPolicy = DEFAULT_GUARD) -> str | None:
    """None when `rewrite` may replace `source`, else the snake_case reason it may not."""
    if not rewrite.strip():
        return "empty_rewrite"
    ratio = len(rewrite.strip()) / max(1, len(source.strip()))
    if ratio < policy.min_length_ratio:
        return "too_short"
    if ratio > policy.max_length_ratio:
        return "too_long"
    if dominant_script(source) != dominant_script(rewrite):
        return "language_changed"
    n = _ngram_size(source, policy)
    src, out = ngrams(source, n), ngrams(rewrite, n)
    shared = len(src & out)
    if shared < policy.min_recall * len(src) and shared < policy.min_precision * len(out):
        return "content_replaced"  # a translation, a summary in other words, an injected answer
    if shared < policy.min_recall * len(src):
        return "content_dropped"
    if shared < policy.min_precision * len(out):
        return "content_added"
    return None
