"""The work of the ingest job, one read task at a time, free of any Beam code.

A task reads its records, normalizes them and writes one Parquet file; each file carries
its own counts in its footer metadata, so a summary (or a progress line) is a cheap read of
footers, and a re-started run knows which tasks are finished without any other state.

With exact dedup on, each task first writes a staging file with a content-hash column;
the runner gathers hashes partitioned by their first byte, marks every occurrence after
the first (in task, row order: deterministic) as a duplicate, and each task then writes
its final file without them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.readers import STAGE, ReadTask, Record, read_task
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA, content_hash, dead_letter, meta_json
from corpusmill.textnorm import normalize

STATS_KEY = b"corpusmill.stats"
HASH_COLUMN = "_hash"
STAGING_DIR = "_staging"
DEAD_LETTERS_DIR = "_dead_letters"
# Exact dedup groups content hashes by their first byte into this many partitions, so the
# runner moves a few arrays per task instead of one element per document.
HASH_PARTITIONS = 16


def part_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, f"part-{index:05d}.parquet")


def staging_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, STAGING_DIR, f"part-{index:05d}.parquet")


def dead_letters_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, DEAD_LETTERS_DIR, f"{STAGE}-{index:05d}.parquet")


@dataclass(frozen=True)
class HashSlice:
    """The content hashes of one task that fall in one partition of the hash space."""

    task: int
    rows: np.ndarray  # int64 row numbers in the task's staging file
    hashes: np.ndarray  # |S16 content hashes, same order


def _with_stats(table: pa.Table, stats: dict[str, Any]) -> pa.Table:
    return table.replace_schema_metadata({STATS_KEY: json.dumps(stats, sort_keys=True)})


def file_stats(path: str) -> dict[str, Any]:
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        meta = pq.ParquetFile(fh).schema_arrow.metadata or {}
    return json.loads(meta.get(STATS_KEY, b"{}"))


def _collect(task: ReadTask) -> tuple[dict[str, list[Any]], list[dict[str, Any]], int]:
    cols: dict[str, list[Any]] = {name: [] for name in DOCUMENT_SCHEMA.names}
    dead: list[dict[str, Any]] = []
    seen = 0
    for rec in read_task(task):
        seen += 1
        if not isinstance(rec, Record):
            dead.append(rec)
            continue
        text = normalize(rec.text)
        if not text:
            dead.append(dead_letter(uri=rec.uri, id=rec.id, stage=STAGE, reason="empty_text",
                                    error="RecordError", message="text is empty or whitespace after normalization"))
            continue
        cols["id"].append(rec.id)
        cols["text"].append(text)
        cols["source"].append(rec.source)
        cols["uri"].append(rec.uri)
        cols["meta"].append(meta_json(rec.meta))
    # A file-level failure (a truncated .gz...) counts as one input unit: the dead letter
    # names the file, and whatever was read before the damage is kept.
    return cols, dead, seen


def stage(task: ReadTask, index: int, out_dir: str, *, dedup: bool) -> list[HashSlice]:
    """Read and normalize one task; write its documents (staging file when deduplicating).

    Returns the task's hashes split into `HASH_PARTITIONS` slices (empty without dedup).
    Skips the reading when the file from an earlier, interrupted run is already there.
    """
    target = staging_path(out_dir, index) if dedup else part_path(out_dir, index)
    if not storage.exists(target):
        cols, dead, records_in = _collect(task)
        if dead:
            storage.write_parquet(pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA), dead_letters_path(out_dir, index))
        table = pa.table(cols, schema=DOCUMENT_SCHEMA)
        reasons = Counter(d["reason"] for d in dead)
        stats = {"records_in": records_in, "docs": table.num_rows, "chars": sum(map(len, cols["text"])),
                 "dead_letters": dict(sorted(reasons.items())), "duplicates": 0}
        if dedup:
            hashes = pa.array([content_hash(t) for t in cols["text"]], pa.binary(16))
            table = table.append_column(HASH_COLUMN, hashes)
        storage.write_parquet(_with_stats(table, stats), target)
    return _hash_slices(target, index) if dedup else []



def _hash_slices(staging: str, index: int) -> list[HashSlice]:
    hashes = storage.read_parquet(staging, [HASH_COLUMN]).column(HASH_COLUMN).to_numpy(zero_copy_only=False)
    hashes = np.asarray(hashes, dtype="S16")
    first = np.frombuffer(hashes.tobytes(), dtype=np.uint8)[::16] if len(hashes) else np.zeros(0, np.uint8)
    part = first % HASH_PARTITIONS
    rows = np.arange(len(hashes), dtype=np.int64)
    return [HashSlice(index, rows[part == p], hashes[part == p]) for p in range(HASH_PARTITIONS)]


def duplicate_rows(slices: list[HashSlice]) -> dict[int, np.ndarray]:
    """Rows to drop per task: every occurrence of a hash after its first in (task, row) order."""
    slices = sorted((s for s in slices if len(s.rows)), key=lambda s: s.task)
    if not slices:
        return {}
    tasks = np.concatenate([np.full(len(s.rows), s.task, np.int64) for s in slices])
    rows = np.concatenate([s.rows for s in slices])
    hashes = np.concatenate([s.hashes for s in slices])
    order = np.lexsort((rows, tasks))
    tasks, rows, hashes = tasks[order], rows[order], hashes[order]
    _, first = np.unique(hashes, return_index=True)
    losers = np.ones(len(hashes), bool)
    losers[first] = False
    return {int(t): rows[losers & (tasks == t)] for t in np.unique(tasks[losers])}


def finalize(index: int, out_dir: str, drop: np.ndarray) -> None:
    """Write a task's final file from its staging file minus the duplicate rows."""
    final = part_path(out_dir, index)
    if storage.exists(final):
        return
    staging = staging_path(out_dir, index)
    table = storage.read_parquet(staging)
    stats = file_stats(staging)
    keep = np.ones(table.num_rows, bool)
    keep[np.asarray(drop, np.int64)] = False
    table = table.filter(pa.array(keep)).drop_columns([HASH_COLUMN]).replace_schema_metadata(None)
    stats["duplicates"] = int((~keep).sum())
    stats["docs"] = table.num_rows
    stats["chars"] = int(pc.sum(pc.utf8_length(table.column("text"))).as_py() or 0)
    storage.write_parquet(_with_stats(table, stats), final)


def summarize(out_dir: str, n_tasks: int) -> dict[str, Any]:
    """Sum the per-file counts of a finished run."""
    total: dict[str, Any] = {"records_in": 0, "docs": 0, "chars": 0, "duplicates": 0, "dead_letters": {}}
    for i in range(n_tasks):
        stats = file_stats(part_path(out_dir, i))
        for key in ("records_in", "docs", "chars", "duplicates"):
            total[key] += stats.get(key, 0)
        for reason, n in stats.get("dead_letters", {}).items():
            total["dead_letters"][reason] = total["dead_letters"].get(reason, 0) + n
    total["dead_letters"] = dict(sorted(total["dead_letters"].items()))
    total["dead_letters_total"] = sum(total["dead_letters"].values())
    return total
