"""What the proxies train and are scored on: checks, bounds, mixtures, the small vocabulary, targets, proxy specs.

Everything here runs on the driver before any proxy trains, so every bad-input error is
raised early. Proxy training data is never selected here: each mixture becomes a stage with
those shares, and the recipe sampler (`mixers/sampler.py`) draws its instances from the
same candidates `corpusmill mix` would select; the tokens come from the token sidecar.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from corpusmill import storage
from corpusmill.corpus import Corpus
from corpusmill.errors import ConfigError
from corpusmill.mixers import token_cache
from corpusmill.mixers.sampler import id_keys, sample_stage, uniform
from corpusmill.mixers.search_fit import draw_mixtures, project
from corpusmill.mixers.search_space import MIN_SHARE_FLOOR, PRIOR_NATURAL, Space, Target
from corpusmill.mixers.selection import PROBE_VIEW

PROXIES_DIR = "proxies"
TARGETS_DIR = "targets"
VOCAB_FILE = "vocab.json"
RESULT_FILE = "result.json"
INSTANCES_FILE = "instances.parquet"
SPEC_VERSION = 1  # bump when a proxy's data or training changes meaning: old cached results are then ignored


def overlapping_buckets(corpus: Corpus, space: Space) -> list[str]:
    """Bucket pairs that share documents (needs `mix_probe`); a space must say first_match to allow them."""
    bs = [b.bucket for b in space.buckets]
    cols = ", ".join(f"coalesce(({b.where}), FALSE) AS m{i}" for i, b in enumerate(bs))
    pairs = [(i, j) for i in range(len(bs)) for j in range(i + 1, len(bs))]
    if not pairs:
        return []
    sums = ", ".join(f"count(*) FILTER (WHERE m{i} AND m{j})" for i, j in pairs)
    row = corpus.con.execute(
        f"SELECT {sums} FROM (SELECT {cols} FROM {PROBE_VIEW} WHERE coalesce(({space.stage.where}), FALSE))"
    ).fetchall()[0]
    return [f"buckets {bs[i].name} and {bs[j].name} share {n:,} documents" for (i, j), n in zip(pairs, row) if n]


def check_target_sql(corpus: Corpus, target: Target) -> int:
    """Documents a held-out SQL target matches (it must match some)."""
    try:
        n = corpus.con.execute(f"SELECT count(*) FROM {PROBE_VIEW} WHERE coalesce(({target.where}), FALSE)").fetchall()[
            0
        ][0]
    except duckdb.Error as exc:
        raise ConfigError(
            f"target {target.name}: {target.where!r} does not work on the corpus view: {str(exc).splitlines()[0]}"
        ) from None
    if n == 0:
        raise ConfigError(f"target {target.name}: no document matches ({target.where})")
    return int(n)


def _read_text(path: str) -> str:
    fs, p = storage.filesystem(path)
    with fs.open(p, "rt", encoding="utf-8") as fh:
        return fh.read()


def read_target_texts(target: Target) -> tuple[list[str], list[str]]:
    """(texts, ids) of a file target: JSONL lines with "text", a folder of *.parquet documents, or *.txt files."""
    ids: list[str] = []
    if target.jsonl is not None:
        texts = []
        for n, line in enumerate(_read_text(target.jsonl).splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise ConfigError(f"target {target.name}: {target.jsonl} line {n} is not JSON") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ConfigError(f'target {target.name}: {target.jsonl} line {n} has no string "text"')
            texts.append(row["text"])
    elif target.docs is not None:
        parquet = storage.expand(storage.join(target.docs, "*.parquet"))
        if parquet:
            tables = [storage.read_parquet(p, columns=["id", "text"]) for p in parquet]
            texts = [t for tb in tables for t in tb.column("text").to_pylist()]
            ids = [i for tb in tables for i in tb.column("id").to_pylist()]
        else:
            texts = [_read_text(p) for p in storage.expand(storage.join(target.docs, "*.txt"))]
    else:
        raise ConfigError(f"target {target.name}: a file target needs `jsonl` or `docs`")
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise ConfigError(f"target {target.name}: {target.jsonl or target.docs} holds no text")
    return texts, ids


def check_target_overlap(corpus: Corpus, target: Target, texts: list[str], ids: list[str], training_where: str) -> None:
    """A file target must not appear in the training candidates (same text, or same document id)."""
    digests = pa.table({"h": [hashlib.md5(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]})
    con = corpus.con
    con.register("_target_texts", digests)
    con.register("_target_ids", pa.table({"i": pa.array(ids, pa.string())}))
    try:
        n = con.execute(
            f"SELECT count(*) FROM {PROBE_VIEW} WHERE coalesce(({training_where}), FALSE) "
            "AND (md5(text) IN (SELECT h FROM _target_texts) OR id IN (SELECT i FROM _target_ids))"
        ).fetchall()[0][0]
    finally:
        con.unregister("_target_texts")
        con.unregister("_target_ids")
    if n:
        raise ConfigError(
            f"target {target.name}: {n:,} of its documents are also training candidates; remove them from the corpus or hold them out with a `where` target"
        )


@dataclass(frozen=True)
class Bounds:
    prior: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    available: list[int]  # tokens per bucket (with end-of-document tokens), each document once


def bounds(space: Space, candidates: pa.Table) -> Bounds:
    """The prior and per-bucket share bounds, after the repetition limits of both budgets."""
    lengths = candidates.column("n_tokens").to_numpy().astype(np.int64) + 1
    weights = candidates.column("weight").to_numpy(zero_copy_only=False).astype(np.float64)
    bucket_of = candidates.column("bucket").to_numpy()
    names = space.bucket_names
    available = [int(lengths[(bucket_of == i) & (weights > 0)].sum()) for i in range(len(names))]
    for name, a in zip(names, available):
        if a == 0:
            raise ConfigError(
                f"bucket {name}: no training document matches (after the stage filter, the quality gates and held-out targets)"
            )
    budget = max(space.proxy_tokens, space.stage.budget_tokens)
    caps = np.array([a * b.bucket.max_repeats / budget for a, b in zip(available, space.buckets)])
    lo = np.array([max(b.min_share, MIN_SHARE_FLOOR) for b in space.buckets])
    hi = np.minimum([b.max_share for b in space.buckets], caps)
    for name, lo_i, hi_i, cap, b in zip(names, lo, hi, caps, space.buckets):
        if lo_i > hi_i:
            raise ConfigError(
                f"bucket {name}: min_share {lo_i:g} needs {lo_i * budget:,.0f} tokens, but it holds "
                f"{cap * budget / b.bucket.max_repeats:,.0f} x max_repeats {b.bucket.max_repeats}"
            )
    if hi.sum() < 1 - 1e-9:
        raise ConfigError(
            f"budget {budget:,} tokens cannot be met at the requested repetition: the buckets give at most "
            f"{hi.sum() * budget:,.0f} (raise max_repeats or max_share, or lower the budget)"
        )
    natural = np.array(available, np.float64) / sum(available)
    prior = natural if space.prior == PRIOR_NATURAL else np.array(space.prior, np.float64)
    return Bounds(project(prior, lo, hi)[0], lo, hi, available)


def mixtures(space: Space, b: Bounds) -> np.ndarray:
    """The prior first, then `proxies` seeded Dirichlet draws around it (rows sum to 1)."""
    drawn = draw_mixtures(b.prior, space.proxies, seed=space.seed, concentration=space.concentration, lo=b.lo, hi=b.hi)
    return np.vstack([b.prior[None, :], drawn])


def token_counts(token_files: list[str], ids: set[str], vocab_size: int, eos_id: int) -> np.ndarray:
    counts = np.zeros(vocab_size, np.int64)
    for f in token_files:
        rows = token_cache.read_token_rows(f, ids)
        if rows:
            counts += np.bincount(np.concatenate(list(rows.values())), minlength=vocab_size)[:vocab_size]
            counts[eos_id] += len(rows)
    return counts


def small_vocab(counts: np.ndarray, n: int) -> list[int]:
    """The `n` most frequent ids (ties by id), in that order: remapped id k is `ids[k]`; n is the OOV id."""
    order = np.lexsort((np.arange(len(counts)), -counts))
    return [int(i) for i in order[:n] if counts[i] > 0]


def remap_table(vocab: list[int], size: int) -> np.ndarray:
    lut = np.full(size, len(vocab), np.int32)
    lut[np.asarray(vocab, np.int64)] = np.arange(len(vocab), dtype=np.int32)
    return lut


def joined(streams: list[np.ndarray], eos_id: int) -> np.ndarray:
    """Documents back to back, each ended by the end-of-document id."""
    if not streams:
        return np.zeros(0, np.int32)
    return np.concatenate([np.append(s.astype(np.int32), np.int32(eos_id)) for s in streams])


def training_order(instances: pa.Table, seed: int) -> pa.Table:
    """Instances (id, repeat) in a seeded order that depends on nothing but ids: a proxy sees no sorted stream."""
    ids = instances.column("id").to_pylist()
    reps = instances.column("repeat").to_numpy().astype(np.int64)
    u = uniform(seed, id_keys(ids), reps)
    order = np.lexsort((reps, np.array(ids, dtype=object).astype(str), u))
    return instances.select(["id", "repeat", "bucket", "n_tokens"]).take(pa.array(order, pa.int64()))


def proxy_instances(space: Space, candidates: pa.Table, shares: np.ndarray) -> pa.Table:
    """The sampler's instances for a proxy of these shares (the recipe machinery, not new selection code)."""
    stage = space.training_stage([float(s) for s in shares], space.proxy_tokens)
    instances, plans = sample_stage(stage, candidates)
    short = [p.describe() for p in plans if p.status in ("short", "empty")]
    if short:
        raise ConfigError("a proxy's mixture cannot be sampled: " + "; ".join(short))
    return training_order(instances, stage.seed)


def config_key(
    space: Space, token_files: list[str], vocab: list[int], target_digests: dict[str, str], trainer_cmd: str | None
) -> str:
    """Everything but the mixture that decides a proxy's loss."""
    blob = json.dumps(
        {
            "v": SPEC_VERSION,
            "stage": repr(space.training_stage([1 / len(space.buckets)] * len(space.buckets), space.proxy_tokens)),
            "gates": [[g.name, g.where] for g in space.gates],
            "seq_len": space.stage.seq_len,
            "proxy_tokens": space.proxy_tokens,
            "model": space.model.to_dict(),
            "inputs": sorted(os.path.basename(f) for f in token_files),
            "vocab": hashlib.sha256(json.dumps(vocab).encode()).hexdigest(),
            "targets": target_digests,
            "trainer": trainer_cmd,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def proxy_key(config: str, shares: np.ndarray) -> str:
    """The cache key of one proxy: the config key and the exact mixture (float64 bytes)."""
    return hashlib.sha256(config.encode() + np.asarray(shares, np.float64).tobytes()).hexdigest()[:20]


def proxy_specs(space: Space, mix: np.ndarray, out: str, config: str, **common: Any) -> list[dict[str, Any]]:
    """One picklable dict per proxy: what a worker needs and nothing it has to look up."""
    return [
        {
            "index": k,
            "key": (key := proxy_key(config, w)),
            "weights": [float(x) for x in w],
            "dir": storage.join(out, PROXIES_DIR, key),
            **common,
        }
        for k, w in enumerate(mix)
    ]
