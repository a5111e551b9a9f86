"""`n_chars`: the document length in Unicode code points (the mixer's length buckets use it)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from corpusmill.annotators.base import Annotator, BatchHint, constant, model_columns


class NChars(Annotator):
    name = "n_chars"
    version = "1"
    columns = pa.schema([pa.field("n_chars", pa.int64()), *model_columns("n_chars")])

    def batch_hint(self) -> BatchHint:
        return BatchHint(min_docs=64, max_docs=4096)

    def label(self, batch: pa.Table) -> pa.Table:
        n = batch.num_rows
        lengths = pc.cast(pc.utf8_length(batch.column("text")), pa.int64())
        return pa.Table.from_arrays([lengths, constant(self.name, n), constant(self.version, n)], schema=self.columns)
