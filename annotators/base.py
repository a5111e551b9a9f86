"""The `Annotator` protocol every labeler implements.

An annotator takes a batch of documents as an Arrow table (at least `id` and `text`, maybe
other document columns) and returns a table with the same rows in the same order and
exactly its `columns`. `__init__` only stores config and checks that model files exist,
so a missing model stops the job before it starts; `setup()` loads models once per worker
process; `label()` is pure and deterministic. Every label column family carries the name
and version of the model or rule that produced it (`<prefix>_model`, `<prefix>_model_version`).
"""

from __future__ import annotations

import abc
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from corpusmill.errors import ModelNotFoundError, RecordError


@dataclass(frozen=True)
class BatchHint:
    """How the job should batch documents for this annotator (see `beam.BatchElements`).

    `max_chars` bounds the text a batch holds, so a run of long documents cannot blow up
    a worker's memory; `max_docs` bounds per-call latency and is the batch size cap.
    """

    min_docs: int = 8
    max_docs: int = 256
    max_chars: int = 8_000_000


class Annotator(abc.ABC):
    """Base of every labeler; subclasses set `name`, `version`, `columns` and write `label`."""

    name: str
    version: str
    columns: pa.Schema

    def batch_hint(self) -> BatchHint:
        return BatchHint()

    def setup(self) -> None:
        """Load models; called once per worker process before the first `label`."""

    def __getstate__(self) -> dict[str, object]:
        # Convention: `_`-prefixed attributes hold what `setup()` loads (models, clients);
        # they do not travel to workers, which call `setup()` themselves.
        return {k: (None if k.startswith("_") else v) for k, v in self.__dict__.items()}

    @abc.abstractmethod
    def label(self, batch: pa.Table) -> pa.Table:
        """Labels of `batch`: same rows, same order, exactly `self.columns`."""


class PartialLabelError(RecordError):
    """Some rows of a batch could not be labeled; the rest are in `table`.

    `table` has every row (the failed ones with null labels); `failures` maps a row's
    position to the `RecordError` that explains it. The job keeps `table` and turns each
    failure into a dead-letter row, so one bad document costs one label, not a batch.
    """

    def __init__(self, table: pa.Table, failures: Mapping[int, RecordError]) -> None:
        reasons = sorted({e.reason for e in failures.values()})
        super().__init__("partial_batch", f"{len(failures)} of {table.num_rows} rows failed: {', '.join(reasons)}")
        self.table = table
        self.failures = dict(failures)


def model_columns(prefix: str) -> list[pa.Field]:
    """The provenance columns of one label family."""
    return [pa.field(f"{prefix}_model", pa.string()), pa.field(f"{prefix}_model_version", pa.string())]


def require_files(annotator: str, *paths: str) -> None:
    """Raise `ModelNotFoundError` naming every missing model file and how to get it."""
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise ModelNotFoundError(
            f"annotator {annotator!r} needs model file(s) that do not exist: {', '.join(missing)}; "
            "train them with `corpusmill annotators train ...` or point --models at the folder that holds them"
        )


def constant(value: str | None, n: int) -> pa.Array:
    """A string column of `n` copies of `value` (provenance columns)."""
    return pa.array([value] * n, pa.string())


# The last batch's text column and its strings (see `texts`); holding the column keeps its
# buffers alive, so their addresses cannot be reused by another batch while the entry stands.
_last_texts: tuple[tuple[int, ...], pa.ChunkedArray, list[str]] | None = None


def texts(batch: pa.Table) -> list[str]:
    """The `text` column as Python strings (a fresh list; the strings are shared).

    Every labeler of a batch asks for the same column, so it is converted once: the labelers
    then also share string objects, whose cached hashes make the per-document memos
    (`words.sample_words`, `features`) a lookup instead of a rehash of each text.
    """
    global _last_texts
    column = batch.column("text")
    key = tuple(
        x
        for chunk in column.chunks
        for x in (chunk.offset, len(chunk), *(b.address if b is not None else 0 for b in chunk.buffers()))
    )
    last = _last_texts
    if last is None or last[0] != key:
        last = _last_texts = (key, column, column.to_pylist())
    return list(last[2])


def file_version(path: str) -> str:
    """A model file's version: the first 12 hex digits of its content hash."""
    h = hashlib.blake2b(digest_size=6)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
