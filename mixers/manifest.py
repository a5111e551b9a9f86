"""`manifest.json` of a stage: what went in (recipe, seed, tokenizer, counts) and what came out (files, sha256).

`verify_stage` re-reads a stage folder against its manifest: file sizes and checksums,
every `.idx` parsed and checked against its `.bin`, provenance rows against sequences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusmill import storage
from corpusmill.mixers.megatron import DTYPE_INT32, ShardFormatError, parse_index
from corpusmill.mixers.plan import StagePlan
from corpusmill.mixers.recipe import Recipe
from corpusmill.mixers.shards import file_digest, open_shard, read_bytes, shard_files
from corpusmill.mixers.tokenizer import Tokenizer

MANIFEST = "manifest.json"
PLAN_FILE = "_plan.json"
FORMAT = "corpusmill-megatron-shards/1"


def _counts_by(instances: pa.Table, column: str) -> dict[str, dict[str, int]]:
    if instances.num_rows == 0:
        return {}
    t = instances.select(["id", column]).append_column("tok", instances.column("length"))
    t = t.set_column(1, column, pc.fill_null(t.column(column), "(none)"))
    grouped = t.group_by(column).aggregate([("tok", "sum"), ("id", "count_distinct"), ("id", "count")])
    rows = sorted(grouped.to_pylist(), key=lambda r: r[column])
    return {
        r[column]: {
            "tokens": int(r["tok_sum"]),
            "documents": int(r["id_count_distinct"]),
            "instances": int(r["id_count"]),
        }
        for r in rows
    }


def stage_counts(plan: StagePlan) -> dict[str, Any]:
    """Tokens (EOS included, padding excluded) and documents per bucket, language, domain and source."""
    written = plan.instances
    if plan.layout.skipped.num_rows:
        sk = plan.layout.skipped
        skipped = set(zip(sk.column("id").to_pylist(), sk.column("part").to_pylist(), sk.column("repeat").to_pylist()))
        keep = [
            k not in skipped
            for k in zip(
                written.column("id").to_pylist(),
                written.column("part").to_pylist(),
                written.column("repeat").to_pylist(),
            )
        ]
        written = written.filter(pa.array(keep))
    return {
        name: _counts_by(written, column)
        for name, column in (
            ("by_bucket", "bucket"),
            ("by_lang", "lang"),
            ("by_domain", "domain"),
            ("by_source", "source"),
        )
    }


def _shard_entry(stage_dir: str, shard: int) -> dict[str, Any]:
    files = {}
    for kind, path in zip(("bin", "idx", "provenance"), shard_files(stage_dir, shard)):
        size, sha = file_digest(path)
        files[kind] = {"name": path.rsplit("/", 1)[-1], "bytes": size, "sha256": sha}
    _, idx_path, prov_path = shard_files(stage_dir, shard)
    _, lengths, _, _ = parse_index(read_bytes(idx_path))  # the .bin was just hashed; no second read
    return {
        "shard": shard,
        "sequences": len(lengths),
        "tokens": int(lengths.astype(np.int64).sum()),
        "provenance_rows": storage.parquet_rows(prov_path),
        "files": files,
    }


def build_manifest(
    plan: StagePlan, recipe: Recipe, tokenizer: Tokenizer, stage_dir: str, *, missing_annotations: int
) -> dict[str, Any]:
    stage, layout = plan.stage, plan.layout
    shards = [_shard_entry(stage_dir, s) for s in range(layout.n_shards)]
    return {
        "format": FORMAT,
        "stage": stage.name,
        "seed": stage.seed,
        "seq_len": stage.seq_len,
        "packing": stage.packing,
        "budget_tokens": stage.budget_tokens,
        "recipe": recipe.to_dict(),
        "plan_fingerprint": plan.fingerprint,
        "tokenizer": {
            "name": tokenizer.name,
            "sha256": tokenizer.fingerprint,
            "vocab_size": tokenizer.vocab_size,
            "eos_id": tokenizer.eos_id,
            "pad_id": tokenizer.eos_id,
        },
        "dtype": "int32",
        "dtype_code": DTYPE_INT32,
        "totals": {
            "tokens": layout.content_tokens,
            "padding_tokens": layout.padding_tokens,
            "padding_ratio": round(layout.padding_ratio, 6),
            "padding_floor": round(layout.padding_floor, 6),
            "instances": plan.instances.num_rows - layout.skipped.num_rows,
            "documents": len(set(plan.instances.column("id").to_pylist())),
            "sequences": sum(s["sequences"] for s in shards),
            "shards": len(shards),
        },
        "buckets": [b.to_dict() for b in plan.buckets],
        "unmet": plan.unmet,
        "missing_annotations": missing_annotations,
        "skipped_too_long": layout.skipped.num_rows,
        "funnel": plan.funnel.to_dict() if plan.funnel else None,
        "long_documents": plan.split_summary() if plan.windows is not None else None,
        "language_target": plan.language_target,
        **stage_counts(plan),
        "shards": shards,
    }


def _check_shard(stage_dir: str, entry: dict[str, Any]) -> list[str]:
    problems = []
    shard = entry["shard"]
    for kind, path in zip(("bin", "idx", "provenance"), shard_files(stage_dir, shard)):
        want = entry["files"][kind]
        if not storage.exists(path):
            problems.append(f"{want['name']}: missing")
            continue
        size, sha = file_digest(path)
        if size != want["bytes"]:
            problems.append(f"{want['name']}: {size} bytes, manifest says {want['bytes']}")
        elif sha != want["sha256"]:
            problems.append(f"{want['name']}: sha256 differs from the manifest")
    if problems:
        return problems
    try:
        ds, prov = open_shard(stage_dir, shard)
    except ShardFormatError as exc:
        return [f"shard {shard}: {exc}"]
    if len(ds) != entry["sequences"] or int(ds.lengths.astype(np.int64).sum()) != entry["tokens"]:
        problems.append(f"shard {shard}: sequence or token count differs from the manifest")
    ends = prov.column("offset").to_numpy() + prov.column("length").to_numpy()
    seqs = prov.column("seq").to_numpy()
    if prov.num_rows != entry["provenance_rows"] or (
        len(seqs) and (seqs.max() >= len(ds) or np.any(ends > ds.lengths[seqs]))
    ):
        problems.append(f"shard {shard}: provenance points outside its sequences")
    return problems


def verify_stage(stage_dir: str) -> list[str]:
    """Problems found in a stage folder (an empty list when everything matches the manifest)."""
    path = storage.join(stage_dir, MANIFEST)
    if not storage.exists(path):
        return [f"{path}: missing (the stage never finished)"]
    manifest = storage.read_json(path)
    problems = []
    for entry in manifest["shards"]:
        problems += _check_shard(stage_dir, entry)
    tokens = sum(e["tokens"] for e in manifest["shards"])
    totals = manifest["totals"]
    if tokens != totals["tokens"] + totals["padding_tokens"]:
        problems.append(
            f"{stage_dir}: shards hold {tokens} tokens, totals say {totals['tokens'] + totals['padding_tokens']}"
        )
    return problems
