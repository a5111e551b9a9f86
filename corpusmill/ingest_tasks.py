"""The work of the ingest job, one read task at a time, free of any Beam code.

A task reads its records, normalizes them and writes one Parquet file; each file carries
its own counts in its footer metadata, so a summary (or a progress line) is a cheap read of
footers, and a re-started run knows which tasks are finished without any other state.

With exact dedup on, each task first writes a staging file and its content hashes; the
runner gathers hashes partitioned by their first byte, marks every occurrence after the
first (in task, row order: deterministic) as a duplicate, and each task then moves its
staged file into place, rewritten without them where it has any.
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
from corpusmill.schema import (
    DEAD_LETTER_SCHEMA,
    DEAD_LETTERS_DIR,
    DOCUMENT_SCHEMA,
    content_hash,
    dead_letter,
    meta_json,
)
from corpusmill.textnorm import normalize

STATS_KEY = b"corpusmill.stats"
HASH_COLUMN = "_hash"
STAGING_DIR = "_staging"
# Exact dedup groups content hashes by their first byte into this many partitions, so the
# runner moves a few arrays per task instead of one element per document.
HASH_PARTITIONS = 16
# A 16-byte hash as two integers: numpy's fixed-width bytes type would strip trailing NULs.
HASH_DTYPE = np.dtype([("hi", "<u8"), ("lo", "<u8")])


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
    hashes: np.ndarray  # HASH_DTYPE content hashes, same order


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


def hashes_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, STAGING_DIR, f"hashes-{index:05d}.parquet")


def stage(task: ReadTask, index: int, out_dir: str, *, dedup: bool) -> list[HashSlice]:
    """Read and normalize one task; write its documents (to staging when deduplicating).

    With dedup the content hashes go to a sidecar beside the staged file, so a task without
    duplicates is finished by a rename rather than a rewrite. Returns the task's hashes split
    into `HASH_PARTITIONS` slices (empty without dedup). A file left by an earlier,
    interrupted run is trusted and not read again.
    """
    final, target = part_path(out_dir, index), staging_path(out_dir, index) if dedup else part_path(out_dir, index)
    if not dedup and storage.exists(final):
        return []
    # The hash sidecar lives until the whole run ends: a resumed run needs the hashes of
    # tasks finished before the interruption to settle the duplicates of the others.
    if dedup and storage.exists(hashes_path(out_dir, index)) and (storage.exists(target) or storage.exists(final)):
        return _hash_slices(_read_hashes(hashes_path(out_dir, index)), index)
    cols, dead, records_in = _collect(task)
    if dead:
        storage.write_parquet(pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA), dead_letters_path(out_dir, index))
    table = pa.table(cols, schema=DOCUMENT_SCHEMA)
    reasons = Counter(d["reason"] for d in dead)
    stats = {"records_in": records_in, "docs": table.num_rows, "chars": sum(map(len, cols["text"])),
             "dead_letters": dict(sorted(reasons.items())), "duplicates": 0}
    if dedup:
        raw = b"".join(content_hash(t) for t in cols["text"])
        hashes = np.frombuffer(raw, HASH_DTYPE)
        column = pa.Array.from_buffers(pa.binary(16), len(hashes), [None, pa.py_buffer(raw)])
        # Sidecar first: a staged file without its hashes is redone on resume.
        storage.write_parquet(pa.table({HASH_COLUMN: column}), hashes_path(out_dir, index))
    storage.write_parquet(_with_stats(table, stats), target)
    return _hash_slices(hashes, index) if dedup else []


def _read_hashes(path: str) -> np.ndarray:
    column = storage.read_parquet(path).column(0).combine_chunks()
    return np.frombuffer(column.buffers()[1], HASH_DTYPE, count=len(column), offset=column.offset * 16)


def _hash_slices(hashes: np.ndarray, index: int) -> list[HashSlice]:
    part = hashes["lo"] % HASH_PARTITIONS
    rows = np.arange(len(hashes), dtype=np.int64)
    return [HashSlice(index, rows[part == p], hashes[part == p]) for p in range(HASH_PARTITIONS)]


def duplicate_rows(slices: list[HashSlice]) -> dict[int, np.ndarray]:
    """Rows to drop per task: every occurrence of a hash after its first in (task, row) order."""
    slices = sorted((s for s in slices if len(s.rows)), key=lambda s: s.task)
    if not slices:
        return {}
    tasks = np.concatenate([np.full(len(s.rows), s.task, np.int64) for s in slices])
    rows = np.concatenate([s.rows for s in slices])
    hashes = np.concatenate([s.hashes for s in slices]).astype(HASH_DTYPE)
    order = np.lexsort((rows, tasks))
    tasks, rows, hashes = tasks[order], rows[order], hashes[order]
    _, first = np.unique(hashes, return_index=True)
    losers = np.ones(len(hashes), bool)
    losers[first] = False
    return {int(t): rows[losers & (tasks == t)] for t in np.unique(tasks[losers])}


def finalize(index: int, out_dir: str, drop: np.ndarray) -> None:
    """Move a task's staged file into place, rewriting it only when it has duplicates."""
    final, staging = part_path(out_dir, index), staging_path(out_dir, index)
    if storage.exists(final):
        return
    if len(drop) == 0:
        fs, p = storage.filesystem(staging)
        fs.mv(p, storage.filesystem(final)[1])
        return
    table = storage.read_parquet(staging)
    stats = file_stats(staging)
    keep = np.ones(table.num_rows, bool)
    keep[np.asarray(drop, np.int64)] = False
    table = table.filter(pa.array(keep)).replace_schema_metadata(None)
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
