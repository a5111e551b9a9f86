"""Where every selected document lands: shard file, sequence, offset. Decided once, on lengths alone.

Two layouts, both globally shuffled with the stage seed and both independent of how many
workers later fill them:

- `stream_layout` (S1, S2): documents back to back, each whole, one Megatron sequence per
  document (the trainer cuts its own `seq_len` windows across document boundaries);
- `pack_layout` (S3): units best-fit-decreasing into `seq_len`-token sequences, the rest of
  each sequence padded. A unit is a whole document or, when the recipe splits long
  documents, a window of one (cut at paragraph breaks by the selection, `mixers/windows.py`,
  so it always fits); with `long_documents: skip` a document longer than `seq_len` is left
  out and reported, never cut silently.

Each placement row says which slice [start, start + length) of a document's tokens (its
end-of-document token included) goes to (shard, seq, offset).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusmill.mixers.recipe import LONG_SPLIT
from corpusmill.mixers.sampler import uniform, unit_keys

PLACEMENT_SCHEMA = pa.schema(
    [
        ("shard", pa.int32()),
        ("seq", pa.int64()),  # sequence number inside the shard
        ("offset", pa.int64()),  # token offset inside the sequence
        ("id", pa.string()),
        ("repeat", pa.int32()),
        ("part", pa.int32()),  # 0 unless a long document was split
        ("start", pa.int64()),  # token offset inside the document (EOS included)
        ("length", pa.int64()),
        ("bucket", pa.string()),
    ]
)
# Bumped whenever the layout algorithm changes, so old shards are never mixed with new ones.
LAYOUT_VERSION = 2
_ORDER_SALT = 0x5EED_0F_0DE5  # keeps the shuffle hash apart from the sampling hash
_PACK_SALT = 0x9AC_5EED


@dataclass(frozen=True)
class Layout:
    placements: pa.Table  # PLACEMENT_SCHEMA, sorted by (shard, seq, offset)
    n_shards: int
    pad_to: int | None  # every sequence padded to this length (pack), or None (stream)
    padding_tokens: int
    skipped: pa.Table  # instances left out (too long and long_documents = skip)
    # No packing of these lengths can pad less: items over half a sequence each need their own.
    padding_floor: float = 0.0

    @property
    def content_tokens(self) -> int:
        return int(self.placements.column("length").to_numpy().sum())

    @property
    def padding_ratio(self) -> float:
        total = self.content_tokens + self.padding_tokens
        return self.padding_tokens / total if total else 0.0


def _shuffle_order(instances: pa.Table, seed: int) -> np.ndarray:
    keys = unit_keys(instances.column("id").to_pylist(), instances.column("part").to_numpy())
    reps = instances.column("repeat").to_numpy().astype(np.uint64)
    u = uniform(seed ^ _ORDER_SALT, keys ^ (reps * np.uint64(0x9E3779B97F4A7C15)), 0)
    # Ties are practically impossible; row order (id, repeat) settles them anyway.
    return np.lexsort((np.arange(len(u)), u))


def _table(cols: dict[str, object]) -> pa.Table:
    return pa.table(cols, schema=PLACEMENT_SCHEMA)


def stream_layout(instances: pa.Table, *, seed: int, shard_tokens: int) -> Layout:
    """Shuffle instances, then fill shard files of about `shard_tokens` tokens each."""
    order = _shuffle_order(instances, seed)
    picked = instances.take(pa.array(order, pa.int64()))
    lengths = picked.column("length").to_numpy().astype(np.int64)
    before = np.cumsum(lengths) - lengths
    shard = (before // shard_tokens).astype(np.int32)
    first_of_shard = np.searchsorted(shard, shard, side="left")
    placements = _table(
        {
            "shard": shard,
            "seq": np.arange(len(order)) - first_of_shard,
            "offset": np.zeros(len(order), np.int64),
            "id": picked.column("id"),
            "repeat": picked.column("repeat"),
            "part": picked.column("part"),
            "start": picked.column("start"),
            "length": lengths,
            "bucket": picked.column("bucket"),
        }
    )
    n_shards = int(shard[-1]) + 1 if len(shard) else 0
    return Layout(placements, n_shards, None, 0, instances.slice(0, 0))


def _split_items(
    lengths: np.ndarray, parts: np.ndarray, starts: np.ndarray, seq_len: int, split: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(instance row, part, start, length) of each item to pack.

    The plan hands over windows that fit already; a unit still longer than `seq_len` (a
    caller that packs whole documents) is cut into `seq_len`-token parts, or left out with
    `skip`, never truncated.
    """
    too_long = lengths > seq_len
    if not split or not too_long.any():
        rows = np.flatnonzero(~too_long)
        return rows, parts[rows].astype(np.int32), starts[rows].astype(np.int64), lengths[rows]
    n = -(-lengths // seq_len)
    rows = np.repeat(np.arange(len(lengths)), n)
    k = np.arange(len(rows)) - np.repeat(np.cumsum(n) - n, n)
    start = starts[rows].astype(np.int64) + k * seq_len
    length = np.minimum(lengths[rows] - k * seq_len, seq_len)
    return rows, (parts[rows] + k).astype(np.int32), start, length


def best_fit_decreasing(lengths: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin and offset of each item (in the given order) when packed longest first, best fit."""
    order = np.argsort(-lengths, kind="stable")
    bins = np.empty(len(lengths), np.int64)
    offsets = np.empty(len(lengths), np.int64)
    # Open bins sorted by (room left, bin number), as one int each: bisect finds the tightest fit.
    open_bins: list[int] = []
    used: list[int] = []
    shift = 40
    for i in order.tolist():
        n = int(lengths[i])
        at = bisect.bisect_left(open_bins, n << shift)
        if at < len(open_bins):
            b = open_bins.pop(at) & ((1 << shift) - 1)
        else:
            b = len(used)
            used.append(0)
        bins[i], offsets[i] = b, used[b]
        used[b] += n
        if capacity - used[b] > 0:
            bisect.insort(open_bins, ((capacity - used[b]) << shift) | b)
    return bins, offsets


def pack_layout(instances: pa.Table, *, seed: int, seq_len: int, shard_tokens: int, long_documents: str) -> Layout:
    """Shuffle, skip units longer than a sequence, pack best-fit decreasing, shuffle the packs."""
    order = _shuffle_order(instances, seed)
    picked = instances.take(pa.array(order, pa.int64()))
    lengths = picked.column("length").to_numpy().astype(np.int64)
    rows, part, start, length = _split_items(
        lengths,
        picked.column("part").to_numpy(),
        picked.column("start").to_numpy(),
        seq_len,
        long_documents == LONG_SPLIT,
    )
    skipped = picked.filter(pa.array(lengths > seq_len)) if long_documents != LONG_SPLIT else instances.slice(0, 0)
    bins, offsets = best_fit_decreasing(length, seq_len)
    n_bins = int(bins.max()) + 1 if len(bins) else 0
    # Pack order is shuffled too, so a shard does not hold only the longest documents.
    pack_rank = np.empty(n_bins, np.int64)
    pack_rank[np.lexsort((np.arange(n_bins), uniform(seed ^ _PACK_SALT, np.arange(n_bins, dtype=np.uint64), 0)))] = (
        np.arange(n_bins)
    )
    global_seq = pack_rank[bins]
    per_shard = max(1, shard_tokens // seq_len)
    placements = _table(
        {
            "shard": (global_seq // per_shard).astype(np.int32),
            "seq": global_seq % per_shard,
            "offset": offsets,
            "id": picked.column("id").take(pa.array(rows, pa.int64())),
            "repeat": picked.column("repeat").take(pa.array(rows, pa.int64())),
            "part": part,
            "start": start,
            "length": length,
            "bucket": picked.column("bucket").take(pa.array(rows, pa.int64())),
        }
    ).sort_by([("shard", "ascending"), ("seq", "ascending"), ("offset", "ascending")])
    content = int(length.sum())
    padding = n_bins * seq_len - content
    n_shards = -(-n_bins // per_shard)
    min_bins = max(int((length > seq_len // 2).sum()), -(-content // seq_len))
    floor = 1 - content / (min_bins * seq_len) if min_bins else 0.0
    return Layout(placements, n_shards, seq_len, padding, skipped, floor)
