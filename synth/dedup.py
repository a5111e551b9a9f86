"""Near-duplicate removal inside a generated set: MinHash signatures and LSH (datasketch).

Signatures are computed per item (parallel-friendly, the Beam job does it on workers);
`NearDuplicates` then walks items in a fixed order and keeps the first of every group of
texts whose estimated Jaccard similarity of word n-gram shingles reaches `threshold`.
Templated text shares its wording, so shingles span `ngram` tokens: two problems that
differ only in their numbers still differ in most shingles.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import regex
from datasketch import LeanMinHash, MinHash, MinHashLSH

from corpusmill.errors import ConfigError

# CJK and Thai scripts do not separate words with spaces: each character is a token there.
_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]|[\p{L}\p{N}\p{M}]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class NearDupConfig:
    threshold: float = 0.8
    num_perm: int = 128
    ngram: int = 5
    seed: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"near-dup threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 16 or self.ngram < 1:
            raise ConfigError("near-dup num_perm must be >= 16 and ngram >= 1")


@functools.lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # Building permutations costs more than hashing a short text: make them once per process.
    return MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations


SCHEME = "affine32"


def _hash32(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")


def signature(text: str, config: NearDupConfig = NearDupConfig()) -> np.ndarray:
    """The MinHash values (uint64 array of `num_perm`) of `text`'s token n-gram shingles."""
    toks = tokens(text)
    n = min(config.ngram, max(len(toks), 1))
    shingles = {" ".join(toks[i : i + n]).encode("utf-8") for i in range(max(len(toks) - n + 1, 1))}
    mh = MinHash(
        num_perm=config.num_perm,
        seed=config.seed,
        hashfunc=_hash32,
        permutations=_permutations(config.num_perm, config.seed),
        scheme=SCHEME,
    )
    mh.update_batch(sorted(shingles))
    return mh.hashvalues


class NearDuplicates:
    """Feed `(key, signature)` in a fixed order; `add` says which earlier key an item duplicates."""

    def __init__(self, config: NearDupConfig = NearDupConfig()) -> None:
        self.config = config
        self._lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
        self._sigs: dict[str, LeanMinHash] = {}
        self.seen = 0
        self.duplicates = 0

    def add(self, key: str, hashvalues: np.ndarray) -> str | None:
        """Index `key` and return None, or return the key of the kept item it near-duplicates."""
        self.seen += 1
        mh = LeanMinHash(seed=self.config.seed, hashvalues=hashvalues, scheme=SCHEME)
        # LSH gives candidates; the estimated Jaccard decides, so banding false positives don't count.
        matches = sorted(k for k in self._lsh.query(mh) if self._sigs[k].jaccard(mh) >= self.config.threshold)
        if matches:
            self.duplicates += 1
            return matches[0]
        self._lsh.insert(key, mh)
        self._sigs[key] = mh
        return None

    @property
    def duplicate_rate(self) -> float:
        return self.duplicates / self.seen if self.seen else 0.0


@dataclass(frozen=True)
class Selection:
    """The verdict on a generated set: ids kept, near-duplicates (id -> kept id), surplus ids."""

    keep: frozenset[str]
    duplicates: dict[str, str]
    surplus: frozenset[str]

    @property
    def duplicate_rate(self) -> float:
        checked = len(self.keep) + len(self.duplicates)
        return len(self.duplicates) / checked if checked else 0.0


def select(
    entries: Iterable[tuple[int, str, np.ndarray]],
    *,
    config: NearDupConfig = NearDupConfig(),
    target: int | None = None,
) -> Selection:
    """Walk `(index, id, signature)` by index: keep the first of each near-duplicate group until
    `target` items are kept; later items are surplus (generated to cover the duplicates)."""
    index = NearDuplicates(config)
    keep: list[str] = []
    dups: dict[str, str] = {}
    surplus: list[str] = []
    for _, doc_id, sig in sorted(entries, key=lambda e: (e[0], e[1])):
        if target is not None and len(keep) >= target:
            surplus.append(doc_id)
            continue
        match = index.add(doc_id, sig)
        if match is None:
            keep.append(doc_id)
        else:
            dups[doc_id] = match
    return Selection(frozenset(keep), dups, frozenset(surplus))
