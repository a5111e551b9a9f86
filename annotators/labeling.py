"""Run several annotators over one batch, isolating failures to single labels.

`label_batch` is what the Beam job's `_LabelFileFn` calls (no Beam here). Each annotator
labels the whole batch; if it raises, the batch is retried one document at a time, so a
document that breaks a labeler costs that one label: its columns are null in the output row
and a dead-letter row (stage `annotate/<name>`) says why. An annotator that reports
per-row failures itself (`PartialLabelError`, e.g. the LLM teacher) is taken at its word.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from corpusmill.annotators.base import Annotator, BatchHint, PartialLabelError
from corpusmill.errors import RecordError
from corpusmill.schema import DeadLetter, dead_letter

log = logging.getLogger(__name__)


def sidecar_schema(annotators: Sequence[Annotator]) -> pa.Schema:
    """`id` followed by every annotator's columns, in annotator order."""
    fields = [pa.field("id", pa.string(), nullable=False)]
    seen = {"id"}
    for a in annotators:
        for f in a.columns:
            if f.name in seen:
                raise ValueError(f"annotator {a.name!r} repeats column {f.name!r}")
            seen.add(f.name)
            fields.append(f)
    return pa.schema(fields)


def batch_hint(annotators: Sequence[Annotator]) -> BatchHint:
    """The tightest of the annotators' hints, so every one gets batches it can handle."""
    # The hint is optional for third-party annotators; they get the default.
    hints = [a.batch_hint() if hasattr(a, "batch_hint") else BatchHint() for a in annotators] or [BatchHint()]
    return BatchHint(
        min_docs=min(h.min_docs for h in hints),
        max_docs=min(h.max_docs for h in hints),
        max_chars=min(h.max_chars for h in hints),
    )


@dataclass
class Labeled:
    table: pa.Table
    dead_letters: list[DeadLetter] = field(default_factory=list)


def _checked(annotator: Annotator, batch: pa.Table, out: pa.Table) -> pa.Table:
    if out.num_rows != batch.num_rows or out.schema.names != annotator.columns.names:
        raise RecordError(
            "labeler_contract_violation",
            f"{annotator.name} returned {out.num_rows} rows with columns {out.schema.names}; "
            f"expected {batch.num_rows} rows with {annotator.columns.names}",
        )
    return out.cast(annotator.columns)


def _failure(annotator: Annotator, row: dict[str, Any], exc: BaseException) -> DeadLetter:
    reason = exc.reason if isinstance(exc, RecordError) else "labeler_error"
    return dead_letter(
        id=row["id"],
        uri=row.get("uri") or "",
        stage=f"annotate/{annotator.name}",
        reason=reason,
        error=type(exc).__name__,
        message=str(exc),
    )


def _nulls(annotator: Annotator, n: int) -> pa.Table:
    return pa.Table.from_arrays([pa.nulls(n, f.type) for f in annotator.columns], schema=annotator.columns)


def _one_by_one(annotator: Annotator, batch: pa.Table, dead: list[DeadLetter]) -> pa.Table:
    pieces = []
    for i in range(batch.num_rows):
        row = batch.slice(i, 1)
        try:
            pieces.append(_checked(annotator, row, annotator.label(row)))
        except Exception as exc:  # one document must not stop the job: dead-letter it
            dead.append(_failure(annotator, row.to_pylist()[0], exc))
            pieces.append(_nulls(annotator, 1))
    return pa.concat_tables(pieces) if pieces else _nulls(annotator, 0)


def _label_one(annotator: Annotator, batch: pa.Table, dead: list[DeadLetter]) -> pa.Table:
    try:
        return _checked(annotator, batch, annotator.label(batch))
    except PartialLabelError as exc:
        rows = batch.select([c for c in ("id", "uri") if c in batch.column_names]).to_pylist()
        dead.extend(_failure(annotator, rows[i], err) for i, err in sorted(exc.failures.items()))
        return _checked(annotator, batch, exc.table)
    except Exception as exc:  # find the documents that cause it, label the rest
        log.debug("%s failed on a batch of %d (%s); labeling one by one", annotator.name, batch.num_rows, exc)
        return _one_by_one(annotator, batch, dead)


def label_batch(annotators: Sequence[Annotator], batch: pa.Table, schema: pa.Schema) -> Labeled:
    """All labels of `batch` as one table (`schema` = `sidecar_schema(annotators)`)."""
    dead: list[DeadLetter] = []
    columns: list[pa.ChunkedArray] = [batch.column("id")]
    for annotator in annotators:
        labels = _label_one(annotator, batch, dead)
        columns.extend(labels.columns)
        # Later labelers see earlier labels (safety reads `lang`); document columns win on a clash.
        for name, col in zip(labels.column_names, labels.columns):
            if name not in batch.column_names:
                batch = batch.append_column(name, col)
    return Labeled(pa.Table.from_arrays(columns, schema=schema), dead)
