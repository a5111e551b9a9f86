"""The work of the ingest job, one read task at a time, free of any Beam code.

A task reads its records, normalizes them and writes one Parquet file; each file carries
its own counts in its footer metadata, so a summary (or a progress line) is a cheap read of
footers, and a re-started run knows which tasks are finished without any other state.

With exact dedup on, each task first writes a staging file and its content and id hashes;
the runner gathers hashes partitioned by their value, marks every occurrence of a text after
the first (in task, row order: deterministic) as a duplicate, and every later record whose
id an earlier record holds with another text as a dead letter (`duplicate_id`: two sources
that reuse ids would otherwise give the corpus two documents under one key), and each task
then moves its staged file into place, rewritten without them where it has any.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusmill import storage
from corpusmill.extractors.text.readers import STAGE, ReadTask, Record, read_task
from corpusmill.layout import DEAD_LETTERS_DIR, file_stats, part_path, with_stats
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    DeadLetter,
    content_hash,
    dead_letter,
    meta_json,
)
from corpusmill.textnorm import normalize

HASH_COLUMN = "_hash"
ID_HASH_COLUMN = "_id_hash"
STAGING_DIR = "_staging"
# Exact dedup groups content hashes into this many partitions, and id hashes into as many
# more, so the runner moves a few arrays per task instead of one element per document.
HASH_PARTITIONS = 16
DUPLICATE_ID = "duplicate_id"
# A 16-byte hash as two integers: numpy's fixed-width bytes type would strip trailing NULs.
HASH_DTYPE = np.dtype([("hi", "<u8"), ("lo", "<u8")])


def staging_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, STAGING_DIR, f"part-{index:05d}.parquet")


def dead_letters_path(out_dir: str, index: int, *, ids: bool = False) -> str:
    """A task's dead letters: from reading, or (`ids`) the duplicate ids found by the shuffle."""
    suffix = f"-{DUPLICATE_ID}" if ids else ""
    return storage.join(out_dir, DEAD_LETTERS_DIR, f"{STAGE}-{index:05d}{suffix}.parquet")


@dataclass(frozen=True)
class HashSlice:
    """The hashes of one task's rows that fall in one partition of the hash space.

    A content slice holds content hashes; an id slice holds id hashes, with the same rows'
    content hashes in `contents` (an id held twice with the same text is a plain duplicate).
    """

    task: int
    rows: np.ndarray  # int64 row numbers in the task's staging file
    hashes: np.ndarray  # HASH_DTYPE content hashes (content slice) or id hashes (id slice)
    contents: np.ndarray | None = None  # HASH_DTYPE content hashes of an id slice


@dataclass(frozen=True)
class Settled:
    """What the shuffle decided for one task's rows."""

    duplicates: np.ndarray  # rows repeating an earlier text
    duplicate_ids: np.ndarray  # rows reusing an earlier record's id with another text


def _collect(task: ReadTask, counters: CounterSink = NO_COUNTERS) -> tuple[dict[str, list[Any]], list[DeadLetter], int]:
    cols: dict[str, list[Any]] = {name: [] for name in DOCUMENT_SCHEMA.names}
    dead: list[DeadLetter] = []
    seen = 0
    for rec in read_task(task):
        seen += 1
        counters.inc("records")
        if not isinstance(rec, Record):
            dead.append(rec)
            continue
        text = normalize(rec.text)
        if not text:
            dead.append(_refused(rec, "empty_text", "text is empty or whitespace after normalization"))
            continue
        try:
            meta = meta_json(rec.meta)
        except RecursionError:  # decoded, but too deep to encode again from here
            dead.append(_refused(rec, "invalid_json", "meta is JSON nested too deeply to store"))
            continue
        cols["id"].append(rec.id)
        cols["text"].append(text)
        cols["source"].append(rec.source)
        cols["uri"].append(rec.uri)
        cols["meta"].append(meta)
    # A file-level failure (a truncated .gz...) counts as one input unit: the dead letter
    # names the file, and whatever was read before the damage is kept.
    return cols, dead, seen


def _refused(rec: Record, reason: str, message: str) -> DeadLetter:
    return dead_letter(uri=rec.uri, id=rec.id, stage=STAGE, reason=reason, error="RecordError", message=message)


def hashes_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, STAGING_DIR, f"hashes-{index:05d}.parquet")


def stage(
    task: ReadTask, index: int, out_dir: str, *, dedup: bool, counters: CounterSink = NO_COUNTERS
) -> list[HashSlice]:
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
        return _hash_slices(*_read_hashes(hashes_path(out_dir, index)), index)
    cols, dead, records_in = _collect(task, counters)
    if dead:
        storage.write_parquet(pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA), dead_letters_path(out_dir, index))
    table = pa.table(cols, schema=DOCUMENT_SCHEMA)
    reasons = Counter(d["reason"] for d in dead)
    stats = {
        "records_in": records_in,
        "docs": table.num_rows,
        "chars": sum(map(len, cols["text"])),
        "dead_letters": dict(sorted(reasons.items())),
        "duplicates": 0,
    }
    if dedup:
        raw, raw_ids = b"".join(map(content_hash, cols["text"])), b"".join(map(content_hash, cols["id"]))
        hashes, id_hashes = np.frombuffer(raw, HASH_DTYPE), np.frombuffer(raw_ids, HASH_DTYPE)
        # Sidecar first: a staged file without its hashes is redone on resume.
        sidecar = pa.table({HASH_COLUMN: _binary16(raw, len(hashes)), ID_HASH_COLUMN: _binary16(raw_ids, len(hashes))})
        storage.write_parquet(sidecar, hashes_path(out_dir, index))
    storage.write_parquet(with_stats(table, stats), target)
    return _hash_slices(hashes, id_hashes, index) if dedup else []


def _binary16(raw: bytes, n: int) -> pa.Array:
    return pa.Array.from_buffers(pa.binary(16), n, [None, pa.py_buffer(raw)])


def _read_hashes(path: str) -> tuple[np.ndarray, np.ndarray]:
    table = storage.read_parquet(path)
    return _as_hashes(table.column(HASH_COLUMN)), _as_hashes(table.column(ID_HASH_COLUMN))


def _as_hashes(column: pa.ChunkedArray) -> np.ndarray:
    array = column.combine_chunks()
    return np.frombuffer(array.buffers()[1], HASH_DTYPE, count=len(array), offset=array.offset * 16)


def _hash_slices(hashes: np.ndarray, id_hashes: np.ndarray, index: int) -> list[HashSlice]:
    """HASH_PARTITIONS content slices, then HASH_PARTITIONS id slices."""
    rows = np.arange(len(hashes), dtype=np.int64)
    part, id_part = hashes["lo"] % HASH_PARTITIONS, id_hashes["lo"] % HASH_PARTITIONS
    content = [HashSlice(index, rows[part == p], hashes[part == p]) for p in range(HASH_PARTITIONS)]
    ids = [
        HashSlice(index, rows[id_part == p], id_hashes[id_part == p], hashes[id_part == p])
        for p in range(HASH_PARTITIONS)
    ]
    return content + ids


def duplicate_rows(slices: list[HashSlice]) -> dict[int, Settled]:
    """Per task, in (task, row) order: rows repeating an earlier text, and rows reusing an
    earlier record's id with a text other than that record's.

    `slices` come from one partition: all content slices or all id slices.
    """
    slices = sorted((s for s in slices if len(s.rows)), key=lambda s: s.task)
    if not slices:
        return {}
    tasks = np.concatenate([np.full(len(s.rows), s.task, np.int64) for s in slices])
    rows = np.concatenate([s.rows for s in slices])
    hashes = np.concatenate([s.hashes for s in slices]).astype(HASH_DTYPE)
    order = np.lexsort((rows, tasks))
    tasks, rows, hashes = tasks[order], rows[order], hashes[order]
    _, first, group = np.unique(hashes, return_index=True, return_inverse=True)
    if slices[0].contents is None:
        losers = np.ones(len(hashes), bool)
        losers[first] = False
        return {int(t): Settled(rows[losers & (tasks == t)], _NO_ROWS) for t in np.unique(tasks[losers])}
    contents = np.concatenate([s.contents for s in slices]).astype(HASH_DTYPE)[order]
    # A record conflicts when its text differs from that of the id's first record.
    losers = contents != contents[first][group.ravel()]
    return {int(t): Settled(_NO_ROWS, rows[losers & (tasks == t)]) for t in np.unique(tasks[losers])}


_NO_ROWS = np.zeros(0, np.int64)


def finalize(index: int, out_dir: str, settled: list[Settled]) -> None:
    """Move a task's staged file into place, rewriting it only when rows leave it.

    Duplicates are dropped and counted; records with a duplicate id become dead letters
    (written before the final file, under a name of their own, so a resumed run rewrites
    rather than repeats them). A row that is both counts as a duplicate.
    """
    final, staging = part_path(out_dir, index), staging_path(out_dir, index)
    if storage.exists(final):
        return
    duplicates = np.unique(np.concatenate([_NO_ROWS] + [s.duplicates for s in settled]))
    duplicate_ids = np.setdiff1d(np.concatenate([_NO_ROWS] + [s.duplicate_ids for s in settled]), duplicates)
    if len(duplicates) == 0 and len(duplicate_ids) == 0:
        fs, p = storage.filesystem(staging)
        fs.mv(p, storage.filesystem(final)[1])
        return
    table = storage.read_parquet(staging)
    stats = file_stats(staging)
    if len(duplicate_ids):
        taken = table.take(pa.array(duplicate_ids))
        dead = [
            dead_letter(
                uri=uri,
                id=doc_id,
                stage=STAGE,
                reason=DUPLICATE_ID,
                error="RecordError",
                message=f"id {doc_id!r} is already used by an earlier document with another text",
            )
            for uri, doc_id in zip(taken.column("uri").to_pylist(), taken.column("id").to_pylist())
        ]
        storage.write_parquet(
            pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA), dead_letters_path(out_dir, index, ids=True)
        )
        stats["dead_letters"] = dict(sorted({**stats["dead_letters"], DUPLICATE_ID: len(duplicate_ids)}.items()))
    keep = np.ones(table.num_rows, bool)
    keep[duplicates] = False
    keep[duplicate_ids] = False
    table = table.filter(pa.array(keep)).replace_schema_metadata(None)
    stats["duplicates"] = len(duplicates)
    stats["docs"] = table.num_rows
    stats["chars"] = int(pc.sum(pc.utf8_length(table.column("text"))).as_py() or 0)
    storage.write_parquet(with_stats(table, stats), final)


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
