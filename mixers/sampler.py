"""The instance-level sampler: how many times each document goes into a stage.

Every decision is per document. A document with rate r = c * weight is used floor(r) times,
plus once more when u(seed, id, floor(r)) < frac(r), capped at the bucket's `max_repeats`;
u is a hash of (seed, id, repeat) mapped to [0, 1). The count only grows with c, so the
bucket's total is a step function of c, and a bisection finds the c whose total is closest
to the bucket's target. Nothing depends on row order or worker count: the same recipe and
seed select the same instances anywhere. A bucket that cannot reach its target even with
every document at the cap is reported with the numbers before any shard is written.

The unit is a document, or one window of a long document in a stage that splits them (its
hash key then names the window), so a bucket's share counts windows. With
`language_shares: corpus` each bucket's weights are scaled per language so that, uncapped,
its tokens split across languages as the stage's eligible corpus does.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa

from corpusmill.mixers.recipe import LANG_CORPUS, Stage

TOLERANCE = 0.005  # a bucket is "met" within ±0.5% of its target
_BISECT_STEPS = 80
_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)

INSTANCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("part", pa.int32()),  # window of the document (0 for a whole document)
        ("repeat", pa.int32()),
        ("bucket", pa.string()),
        ("start", pa.int64()),  # first token of the unit inside its document
        ("length", pa.int64()),  # tokens the unit places (with the end-of-document token if it ends the document)
        ("n_tokens", pa.int64()),  # the unit's tokens, without the end-of-document token
        ("lang", pa.string()),
        ("domain", pa.string()),
        ("source", pa.string()),
    ]
)


def id_keys(ids: list[str]) -> np.ndarray:
    """A stable 64-bit key per document id (independent of Python's hash seed)."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(i.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
            for i in ids
        ),
        dtype=np.uint64,
        count=len(ids),
    )


def unit_keys(ids: list[str], parts: np.ndarray) -> np.ndarray:
    """Keys of units: a whole document (part 0) keeps its id's key, a later window gets its own."""
    return id_keys([i if p == 0 else f"{i}\x00w{p}" for i, p in zip(ids, parts.tolist())])


def language_factors(langs: list[str | None], lengths: np.ndarray, target: dict[str, float]) -> np.ndarray:
    """Per-unit weight factors that move a bucket's language token shares to `target`.

    Only languages present in the bucket count (their target shares are renormalized); a
    language absent from `target` keeps factor 1.
    """
    names = np.array([lang if lang is not None else "(none)" for lang in langs], dtype=object)
    present = {n: float(lengths[names == n].sum()) for n in sorted(set(names.tolist()))}
    pool_total = sum(present.values()) or 1.0
    wanted = {n: target[n] for n in present if n in target}
    wanted_total = sum(wanted.values())
    if not wanted_total:
        return np.ones(len(langs))
    covered = sum(present[n] for n in wanted) / pool_total  # keeps untargeted languages at their share
    factor = {n: (wanted[n] / wanted_total * covered) / (present[n] / pool_total) for n in wanted}
    return np.array([factor.get(n, 1.0) for n in names.tolist()], dtype=np.float64)


def _mix64(x: np.ndarray) -> np.ndarray:
    # splitmix64's finalizer: a bijection on 64-bit words that scatters nearby inputs.
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def uniform(seed: int, keys: np.ndarray, repeat: np.ndarray | int) -> np.ndarray:
    """u(seed, id, repeat) in [0, 1), vectorized over documents."""
    with np.errstate(over="ignore"):
        salt = _mix64(np.uint64(seed) * _GOLD + np.asarray(repeat, dtype=np.uint64) + np.uint64(1))
        return (_mix64(keys ^ salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def repeats(rate: np.ndarray, keys: np.ndarray, seed: int, cap: int) -> np.ndarray:
    """floor(rate) + [u(seed, id, floor(rate)) < frac(rate)], capped at `cap` uses."""
    whole = np.floor(rate).astype(np.int64)
    # Hashes are recomputed rather than tabled per repeat: memory stays one array per bucket.
    extra = uniform(seed, keys, np.minimum(whole, cap - 1)) < (rate - whole)
    return np.minimum(whole + extra, cap)


@dataclass(frozen=True)
class BucketPlan:
    name: str
    documents: int  # candidate documents in the bucket
    available_tokens: int  # their tokens (with end-of-document tokens), each used once
    max_repeats: int
    target_tokens: int | None  # None for a weight-only bucket
    tokens: int  # planned tokens
    instances: int
    documents_used: int
    status: str  # ok | short | empty | coarse (documents too large to land within tolerance)

    @property
    def deviation(self) -> float:
        return 0.0 if not self.target_tokens else (self.tokens - self.target_tokens) / self.target_tokens

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "deviation": round(self.deviation, 6)}

    def describe(self) -> str:
        head = f"{self.name}: {self.tokens:,} tokens, {self.instances:,} instances of {self.documents_used:,}/{self.documents:,} documents"
        if self.target_tokens is None:
            return head + " (weight bucket)"
        head += f", target {self.target_tokens:,} ({self.deviation:+.2%})"
        if self.status == "empty" and self.documents:
            return head + " -- CANNOT MEET: every matching document has weight 0"
        if self.status == "empty":
            return head + " -- CANNOT MEET: no document matches this bucket"
        if self.status == "short":
            cap = self.available_tokens * self.max_repeats
            return head + (
                f" -- CANNOT MEET: {self.available_tokens:,} tokens x max_repeats {self.max_repeats} = {cap:,},"
                f" short by {self.target_tokens - cap:,}"
            )
        if self.status == "coarse":
            return head + " -- not within ±0.5%: documents are large relative to the target"
        return head


def _solve_scale(
    weights: np.ndarray, lengths: np.ndarray, keys: np.ndarray, seed: int, cap: int, target: int
) -> np.ndarray:
    """Counts per document whose token total is closest to `target` (the caller checked it is reachable)."""

    def total(c: float) -> int:
        return int((repeats(c * weights, keys, seed, cap) * lengths).sum())

    lo, hi = 0.0, cap / weights[weights > 0].min()
    for _ in range(_BISECT_STEPS):
        mid = (lo + hi) / 2
        if total(mid) < target:
            lo = mid
        else:
            hi = mid
    under = _fill(repeats(lo * weights, keys, seed, cap), weights, lengths, keys, seed, cap, target)
    over = repeats(hi * weights, keys, seed, cap)
    return min((under, over), key=lambda c: abs(int((c * lengths).sum()) - target))


def _fill(
    counts: np.ndarray, weights: np.ndarray, lengths: np.ndarray, keys: np.ndarray, seed: int, cap: int, target: int
) -> np.ndarray:
    """Close the gap below `target` with one more use of the documents next in line that still fit.

    "Next in line" is the order in which raising c would add them, (count + u(count)) / weight,
    so the fill keeps the sampler's per-document preference; it only skips documents too long
    for what is left. This matters when documents are large relative to a bucket's target.
    """
    counts = counts.copy()
    gap = target - int((counts * lengths).sum())
    open_ = np.flatnonzero((counts < cap) & (weights > 0))
    nxt = (counts[open_] + uniform(seed, keys[open_], counts[open_])) / weights[open_]
    queue = open_[np.lexsort((open_, nxt))]
    while gap > TOLERANCE * target / 2 and len(queue):
        fits = queue[lengths[queue] <= gap]
        take = fits[np.cumsum(lengths[fits]) <= gap]
        if not len(take):
            take = fits[:1]
        if not len(take):
            break
        counts[take] += 1
        gap -= int(lengths[take].sum())
        queue = queue[~np.isin(queue, take)]
    return counts


def sample_bucket(
    name: str, keys: np.ndarray, lengths: np.ndarray, weights: np.ndarray, *, seed: int, cap: int, target: int | None
) -> tuple[np.ndarray, BucketPlan]:
    """Repeat count per document of one bucket, and its plan line. `lengths` include the EOS token."""
    available = int(lengths.sum())
    if target is None:
        counts = repeats(weights, keys, seed, cap)
        status = "ok"
    elif available == 0 or not np.any(weights > 0):
        counts, status = np.zeros(len(keys), dtype=np.int64), "empty"
    else:
        reachable = int((lengths[weights > 0]).sum()) * cap
        if reachable < target * (1 - TOLERANCE):
            counts = np.where(weights > 0, cap, 0)
            status = "short"
        else:
            counts = _solve_scale(weights, lengths, keys, seed, cap, target)
            got = int((counts * lengths).sum())
            status = "ok" if abs(got - target) <= TOLERANCE * target else "coarse"
    plan = BucketPlan(
        name=name,
        documents=len(keys),
        available_tokens=available,
        max_repeats=cap,
        target_tokens=target,
        tokens=int((counts * lengths).sum()),
        instances=int(counts.sum()),
        documents_used=int((counts > 0).sum()),
        status=status,
    )
    return counts, plan


def sample_stage(
    stage: Stage, candidates: pa.Table, language_shares: dict[str, float] | None = None
) -> tuple[pa.Table, list[BucketPlan]]:
    """Instances (one row per unit use, sorted by id, part and repeat) and one plan line per bucket."""
    ids = candidates.column("id").to_pylist()
    parts = candidates.column("part").to_numpy().astype(np.int64)
    keys = unit_keys(ids, parts)
    lengths = candidates.column("length").to_numpy().astype(np.int64)
    weights = candidates.column("weight").to_numpy(zero_copy_only=False).astype(np.float64)
    bucket_of = candidates.column("bucket").to_numpy()
    langs = candidates.column("lang").to_pylist()
    counts = np.zeros(len(ids), dtype=np.int64)
    plans = []
    for i, b in enumerate(stage.buckets):
        rows = np.flatnonzero(bucket_of == i)
        if stage.language_shares == LANG_CORPUS and language_shares and len(rows):
            weights[rows] *= language_factors([langs[r] for r in rows], lengths[rows], language_shares)
        target = None if b.share is None else round(b.share * stage.budget_tokens)
        c, plan = sample_bucket(
            b.name, keys[rows], lengths[rows], weights[rows], seed=stage.seed, cap=b.max_repeats, target=target
        )
        counts[rows] = c
        plans.append(plan)
    rows = np.repeat(np.arange(len(ids)), counts)
    repeat_no = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    names = np.array([b.name for b in stage.buckets], dtype=object)
    picked = candidates.take(pa.array(rows, pa.int64()))
    instances = pa.table(
        {
            "id": picked.column("id"),
            "part": picked.column("part").cast(pa.int32()),
            "repeat": pa.array(repeat_no, pa.int32()),
            "bucket": pa.array(names[picked.column("bucket").to_numpy()] if len(rows) else [], pa.string()),
            "start": picked.column("start").cast(pa.int64()),
            "length": picked.column("length").cast(pa.int64()),
            "n_tokens": picked.column("n_tokens").cast(pa.int64()),
            "lang": picked.column("lang"),
            "domain": picked.column("domain"),
            "source": picked.column("source"),
        },
        schema=INSTANCE_SCHEMA,
    )
    return instances, plans
