"""MinHash signatures of many documents at once, vectorised in numpy.

A document's shingles are its n-grams of words: the annotators' word splitter gives words in
spaced scripts and one token per character in Chinese, Japanese and Thai (and the other
scripts written without spaces), so the same n-gram code yields character n-grams there.
Text is lowercased and the splitter drops whitespace and punctuation, so documents that
differ only in case, spacing or punctuation get equal signatures.

Each word is hashed once (blake2b, memoized per process: word frequencies are Zipfian), an
n-gram's hash is a polynomial over its words' hashes followed by a 64-bit finalizer, and the
`num_perm` hash functions are multiply-shift maps `(a*x + b) mod 2**64 >> 32` with odd `a`
(bijective on 64 bits), evaluated over all shingles of a whole batch of documents per
function and reduced per document with `np.minimum.reduceat`. That is ~10x faster per core
than hashing each document's shingles separately (measured in `bench/dedup.py`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from corpusmill.words import split_words

# Documents are judged on their first MAX_CHARS characters: bounded memory for a 100 MB
# "document", and two texts sharing 2 M characters are near-duplicates whatever follows.
MAX_CHARS = 2_000_000
# Shingles hashed per numpy pass: ~32 MB of uint64 per temporary array.
CHUNK = 1 << 22
_WORD_CACHE_MAX = 1 << 20
_MASK = (1 << 64) - 1
_NO_HASH = np.uint32(0xFFFFFFFF)
_P = np.uint64(0x100000001B3)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)

_word_cache: dict[str, int] = {}


def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def word_hashes(words: list[str]) -> np.ndarray:
    """64-bit hashes of `words` (uint64), identical on every machine and run."""
    vals = list(map(_word_cache.get, words))
    if None in vals:
        if len(_word_cache) > _WORD_CACHE_MAX:
            _word_cache.clear()
        for i, v in enumerate(vals):
            if v is None:
                w = words[i]
                v = _word_cache.get(w)
                if v is None:
                    v = _word_cache[w] = _word_hash(w)
                vals[i] = v
    return np.array(vals, dtype=np.uint64)


def _finalize(x: np.ndarray) -> np.ndarray:
    # splitmix64's finalizer: every output bit depends on every input bit.
    x = x ^ (x >> np.uint64(30))
    x = x * _C1
    x = x ^ (x >> np.uint64(27))
    x = x * _C2
    return x ^ (x >> np.uint64(31))


def tokens(text: str) -> list[str]:
    """The tokens shingles are made of: lowercased words (characters in unspaced scripts)."""
    return split_words(text[:MAX_CHARS].lower())


def shingles(text: str, ngram: int) -> np.ndarray:
    """Hashes (uint64) of the token `ngram`-grams of `text`; empty when it has fewer tokens."""
    return token_shingles(tokens(text), ngram)


def token_shingles(toks: list[str], ngram: int) -> np.ndarray:
    h = word_hashes(toks)
    m = len(h) - ngram + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    g = h[:m].copy()
    with np.errstate(over="ignore"):
        for k in range(1, ngram):
            g *= _P
            g += h[k : k + m]
        return _finalize(g)


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The `a` (odd) and `b` of the `num_perm` hash functions for `seed`."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=num_perm, dtype=np.uint64)
    return a, b


@dataclass(frozen=True)
class Signatures:
    """`values[i]` is document i's signature (uint32 x num_perm) when `signed[i]`; `tokens[i]`
    counts its tokens (a document without a signature had fewer than `min_tokens`)."""

    values: np.ndarray
    signed: np.ndarray
    tokens: np.ndarray


def _min_hash(pieces: list[tuple[int, np.ndarray]], out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """Fold the minimum of each hash function over `pieces` (document row, shingles) into `out`.
    A row appears at most once in `pieces`, so fancy-indexed assignment is safe."""
    rows = np.array([r for r, _ in pieces], dtype=np.int64)
    sizes = np.array([len(p) for _, p in pieces], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    x = np.concatenate([p for _, p in pieces])
    t = np.empty_like(x)
    shift = np.uint64(32)
    with np.errstate(over="ignore"):
        for k in range(len(a)):
            np.multiply(x, a[k], out=t)
            t += b[k]
            t >>= shift
            mins = np.minimum.reduceat(t, offsets).astype(np.uint32)
            out[rows, k] = np.minimum(out[rows, k], mins)


def signatures(texts: list[str], *, ngram: int, num_perm: int, seed: int, min_tokens: int) -> Signatures:
    """MinHash signatures of `texts`, computed together (one numpy pass per hash function)."""
    a, b = permutations(num_perm, seed)
    n = len(texts)
    out = np.full((n, num_perm), _NO_HASH, dtype=np.uint32)
    signed = np.zeros(n, dtype=bool)
    n_tokens = np.zeros(n, dtype=np.int64)
    pieces: list[tuple[int, np.ndarray]] = []
    size = 0
    for i, text in enumerate(texts):
        toks = tokens(text) if text else []
        n_tokens[i] = len(toks)
        if len(toks) < max(min_tokens, ngram):
            continue
        sh = token_shingles(toks, ngram)
        signed[i] = True
        for start in range(0, len(sh), CHUNK):  # a huge document spans several passes
            piece = sh[start : start + CHUNK]
            pieces.append((i, piece))
            size += len(piece)
            if size >= CHUNK:
                _min_hash(pieces, out, a, b)
                pieces, size = [], 0
    if pieces:
        _min_hash(pieces, out, a, b)
    return Signatures(out, signed, n_tokens)


def jaccard_estimate(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise share of equal hash values of two signature matrices (or vectors)."""
    return (np.asarray(x) == np.asarray(y)).mean(axis=-1)
