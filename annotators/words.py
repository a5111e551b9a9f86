"""The words annotators look at: a bounded, memoized sample of the core word splitter's output.

The splitter itself (`split_words`, `unspaced_fraction`) lives in `corpusmill.words`, shared
with the dedup room; it is re-exported here for the labelers that import it from this module.
"""

from __future__ import annotations

import functools

from corpusmill.words import split_words, unspaced_fraction

__all__ = ["FEATURE_CHARS", "SAMPLE_CHARS", "features", "sample_words", "split_words", "unspaced_fraction"]

# Labelers look at most this much of a document (long documents cost bounded time).
SAMPLE_CHARS = 100_000
# fastText models see the words of about this many leading characters.
FEATURE_CHARS = 1000


@functools.lru_cache(maxsize=512)
def _cached_words(sample: str) -> tuple[str, ...]:
    return tuple(split_words(sample))


def sample_words(text: str) -> tuple[str, ...]:
    """Words of the first `SAMPLE_CHARS` characters, memoized.

    Every labeler of a batch asks for the same documents' words; the cache (sized to the
    largest batch, 512 documents, and keyed by the bounded sample) makes that one split per
    document instead of one per labeler, and never holds more than 512 samples.
    """
    return _cached_words(text[:SAMPLE_CHARS])


def features(text: str) -> str:
    """The token string our fastText models see: lowercased leading words joined by spaces."""
    out, used = [], 0
    for word in sample_words(text):
        used += len(word) + 1
        if used > FEATURE_CHARS:
            break
        out.append(word.lower())
    return " ".join(out)
