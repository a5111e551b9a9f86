"""Annotation sidecar files: which inputs need labels, batches in, one Parquet file out.

`DOCS_DIR/part-NNNNN.parquet` gets `ANN_DIR/part-NNNNN.parquet`: same name, same rows in
the same order, `id` plus every label column. An output file that exists is finished (it
was renamed into place only when complete), so a re-run plans only the missing ones.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.annotators.base import BatchHint
from corpusmill.errors import InputNotFoundError
from corpusmill.layout import DEAD_LETTERS_DIR
from corpusmill.llm.types import transient_dead_letters
from corpusmill.schema import DEAD_LETTER_SCHEMA, DeadLetter

INPUT_COLUMNS = ["id", "text", "uri"]


@dataclass(frozen=True)
class FileTask:
    index: int
    source: str
    target: str


def document_files(docs_dir: str) -> list[str]:
    files = [p for p in storage.expand(storage.join(docs_dir, "*.parquet"))]
    if not files:
        raise InputNotFoundError(f"no documents (*.parquet) under {docs_dir}; run `corpusmill ingest` first")
    return files


def plan(docs_dir: str, ann_dir: str) -> tuple[list[FileTask], int]:
    """Tasks for the input files whose sidecar is missing, and the number of input files."""
    files = document_files(docs_dir)
    tasks = []
    for i, path in enumerate(files):
        target = storage.join(ann_dir, posixpath.basename(path))
        if not storage.exists(target):
            tasks.append(FileTask(i, path, target))
    return tasks, len(files)


def _split_by_chars(table: pa.Table, max_chars: int) -> Iterator[pa.Table]:
    """Cut `table` so each piece holds at most `max_chars` of text (a huge document alone)."""
    lengths = pc.utf8_length(table.column("text")).to_pylist()
    start = total = 0
    for i, n in enumerate(lengths):
        if i > start and total + n > max_chars:
            yield table.slice(start, i - start)
            start, total = i, 0
        total += n
    if start < table.num_rows:
        yield table.slice(start, table.num_rows - start)


def read_batches(path: str, hint: BatchHint) -> Iterator[pa.Table]:
    """The file's documents in order, as tables of at most `hint.max_docs` rows / `max_chars` chars.

    Streams record batches, so memory stays bounded by the batch, not by the file.
    """
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        reader = pq.ParquetFile(fh)
        columns = [c for c in INPUT_COLUMNS if c in reader.schema_arrow.names]
        for record_batch in reader.iter_batches(batch_size=hint.max_docs, columns=columns):
            yield from _split_by_chars(pa.Table.from_batches([record_batch]), hint.max_chars)


def dead_letter_path(task: FileTask) -> str:
    parent, name = task.target.rsplit("/", 1)
    return storage.join(parent, DEAD_LETTERS_DIR, f"annotate-{name}")


def write_sidecar(task: FileTask, pieces: list[tuple[int, pa.Table]], dead: list[DeadLetter], schema: pa.Schema) -> int:
    """Write one input file's labels (batches in read order) and its label dead letters.

    Dead letters go first: a sidecar that exists therefore always has its dead letters
    beside it, and a re-run that skips it loses nothing. Both are sorted, so reproducible.
    """
    if dead:
        dead = sorted(dead, key=lambda r: (r["id"] or "", r["stage"], r["reason"], r["message"]))
        storage.write_parquet(pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA), dead_letter_path(task))
    tables = [t for _, t in sorted(pieces, key=lambda kv: kv[0])]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    storage.write_parquet(table, task.target)
    return table.num_rows


def summarize(docs_dir: str, ann_dir: str) -> dict[str, Any]:
    """Counts over a finished run: documents in, sidecar rows, label dead letters by stage/reason."""
    records_in = sum(storage.parquet_rows(p) for p in document_files(docs_dir))
    rows = sum(storage.parquet_rows(p) for p in storage.expand(storage.join(ann_dir, "*.parquet")))
    dead: dict[str, int] = {}
    for path in storage.expand(storage.join(ann_dir, DEAD_LETTERS_DIR, "*.parquet")):
        table = storage.read_parquet(path, columns=["stage", "reason"])
        for stage, reason in zip(table.column("stage").to_pylist(), table.column("reason").to_pylist()):
            key = f"{stage}:{reason}"
            dead[key] = dead.get(key, 0) + 1
    return {
        "records_in": records_in,
        "docs": rows,
        "dead_letters": dict(sorted(dead.items())),
        "dead_letters_total": sum(dead.values()),
    }


# -- retrying transient LLM failures (teacher labels a server could not give) ------------------


def _dead_letter_files(ann_dir: str) -> list[tuple[str, str]]:
    """(dead-letter file, the sidecar it belongs to) for every label dead-letter file."""
    files = storage.expand(storage.join(ann_dir, DEAD_LETTERS_DIR, "annotate-*.parquet"))
    return [(p, storage.join(ann_dir, posixpath.basename(p).removeprefix("annotate-"))) for p in files]


def pending_retries(ann_dir: str) -> int:
    """Documents of finished sidecars whose labels failed for a transient LLM reason."""
    return transient_dead_letters(dead for dead, sidecar in _dead_letter_files(ann_dir) if storage.exists(sidecar))


def reopen_retryable(ann_dir: str) -> int:
    """Remove each sidecar holding transient LLM failures, then its dead letters, so that the
    file is labeled again (the teacher's cache answers what it answered); returns the documents
    reopened. Dead letters without a sidecar belong to a file not finished: they go too, as
    labeling the file writes them again."""
    reopened = 0
    for dead, sidecar in _dead_letter_files(ann_dir):
        if not storage.exists(sidecar):
            storage.remove_tree(dead)
            continue
        retryable = transient_dead_letters([dead])
        if retryable:
            storage.remove_tree(sidecar)  # first: from here on the file is unfinished
            storage.remove_tree(dead)
            reopened += retryable
    return reopened
