"""The words annotators look at: a bounded, memoized sample of the core word splitter's output.

The splitter itself (`split_words`, `unspaced_fraction`) lives in `corpusmill.words`, shared
with the dedup room; it is re-exported here for the labelers that import it from this module.
"""

from __future__ import annotations

import functools

from corpusmill.words import split_words, unspaced_fraction

__all__ = [
    "FEATURE_CHARS",
    "SAMPLE_CHARS",
    "features",
    "lower_words",
    "sample_words",
    "split_words",
    "unspaced_fraction",
]

# Labelers look at most this much of a document (long documents cost bounded time).
SAMPLE_CHARS = 100_000
# fastText models see the words of about this many leading characters.
FEATURE_CHARS = 1000


class _Prepared:
    """What the labelers derive from one document's words, each part computed on first use."""

    __slots__ = ("_features", "_lower", "words")

    def __init__(self, sample: str) -> None:
        self.words = tuple(split_words(sample))
        self._lower: tuple[str, ...] | None = None
        self._features: str | None = None

    @property
    def lower(self) -> tuple[str, ...]:
        if self._lower is None:
            # One `lower()` over the joined words equals lowering each word: no lowercase mapping
            # makes or removes a space, and the space keeps each word's context (Greek final
            # sigma) its own.
            self._lower = tuple(" ".join(self.words).lower().split(" ")) if self.words else ()
        return self._lower

    @property
    def features(self) -> str:
        if self._features is None:
            # A word is kept while the running length of words + separators stays within
            # FEATURE_CHARS: exactly the words that end inside the first FEATURE_CHARS - 1
            # characters of the words joined by spaces (each word has a character, so the
            # first FEATURE_CHARS // 2 + 1 words are enough). Cut there, in C, not word by word.
            joined = " ".join(self.words[: FEATURE_CHARS // 2 + 1])
            if len(joined) >= FEATURE_CHARS:
                cut = joined[: FEATURE_CHARS - 1]
                if joined[FEATURE_CHARS - 1] != " ":  # the last word runs past the limit: drop it
                    cut = cut[: max(cut.rfind(" "), 0)]
                joined = cut
            self._features = joined.lower()
        return self._features


@functools.lru_cache(maxsize=512)
def _prepared(sample: str) -> _Prepared:
    return _Prepared(sample)


def sample_words(text: str) -> tuple[str, ...]:
    """Words of the first `SAMPLE_CHARS` characters, memoized.

    Every labeler of a batch asks for the same documents' words; the cache (sized to the
    largest batch, 512 documents, and keyed by the bounded sample) makes that one split per
    document instead of one per labeler, and never holds more than 512 samples. The lowercased
    words and the fastText features of a document hang off the same cache entry.
    """
    return _prepared(text[:SAMPLE_CHARS]).words


def lower_words(text: str) -> tuple[str, ...]:
    """`sample_words(text)`, lowercased (the safety lexicon matches these)."""
    return _prepared(text[:SAMPLE_CHARS]).lower


def features(text: str) -> str:
    """The token string our fastText models see: lowercased leading words joined by spaces.

    Memoized with the words: edu, domain and safety each ask for the same documents'."""
    return _prepared(text[:SAMPLE_CHARS]).features
