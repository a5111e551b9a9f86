"""LSH banding: band keys of signatures, and candidate pairs from documents sharing a key."""

from __future__ import annotations

import numpy as np

_P = np.uint64(0x100000001B3)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * _C1
    x = x ^ (x >> np.uint64(27))
    x = x * _C2
    return x ^ (x >> np.uint64(31))


def band_keys(values: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 key of each (document, band): equal keys mean equal band values (up to 64-bit
    collisions, which only add a candidate that the Jaccard check then judges).
    The band number is part of the key, so keys of different bands never meet."""
    n = values.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            h = np.full(n, j + 1, dtype=np.uint64)
            for c in range(j * rows, (j + 1) * rows):
                h *= _P
                h += values[:, c].astype(np.uint64)
            keys[:, j] = _mix(h)
    return keys


def partition_of(x: np.ndarray, partitions: int) -> np.ndarray:
    """Partition number of each uint64/int64 value, spread by a finalizer (keys of one file
    are consecutive integers: plain modulo would be fine, mixed is safer for any key)."""
    with np.errstate(over="ignore"):
        return (_mix(x.astype(np.uint64)) % np.uint64(partitions)).astype(np.int64)


def candidate_pairs(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (root, other) for documents sharing a band key, where `root` is the smallest
    document of the bucket: a star, not all pairs, so a bucket of k documents gives k - 1
    pairs (a 10,000-page boilerplate cluster stays 9,999 pairs, not 50 million) with the same
    connected components. Pairs are unique and sorted."""
    if len(keys) < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    order = np.lexsort((docs, keys))
    k, d = keys[order], docs[order]
    starts = np.concatenate([[True], k[1:] != k[:-1]])
    run_id = np.cumsum(starts) - 1
    roots = d[starts][run_id]
    member = ~starts & (d != roots)
    return unique_pairs(roots[member], d[member])


def unique_pairs(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(u) == 0:
        return u.astype(np.int64), v.astype(np.int64)
    pairs = np.unique(np.stack([u, v], axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
