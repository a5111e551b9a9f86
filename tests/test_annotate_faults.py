"""Fault suite, annotate: an input file with no documents (every record of it dead-lettered
by ingest) gets an empty sidecar, and the run's summary counts it, on every runner."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusmill import storage
from corpusmill.annotators.labeling import sidecar_schema
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.schema import DOCUMENT_SCHEMA
from tests.beam_runners import RUNNERS, runner_kwargs


def _write(folder: Path, n_docs: list[int]) -> Path:
    for f, n in enumerate(n_docs):
        rows = [
            {
                "id": f"f{f}-{i}",
                "text": f"Document {i} of file {f}.",
                "source": "t",
                "uri": f"mem://{f}/{i}",
                "meta": "{}",
            }
            for i in range(n)
        ]
        storage.write_parquet(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA), str(folder / f"part-{f:05d}.parquet"))
    return folder


@pytest.mark.parametrize("runner", RUNNERS)
def test_an_empty_input_file_gets_an_empty_sidecar(runner: str, tmp_path: Path) -> None:
    docs = _write(tmp_path / "docs", [3, 0, 2])
    annotators = build_annotators(["n_chars", "quality"])
    ann = tmp_path / "ann"
    s = run_annotate(str(docs), str(ann), annotators=annotators, progress=False, **runner_kwargs(runner))
    assert s["records_in"] == s["docs"] == 5 and s["files_labeled"] == 3
    empty = pq.read_table(ann / "part-00001.parquet")
    assert empty.num_rows == 0 and empty.schema.names == sidecar_schema(annotators).names
    assert [pq.read_metadata(ann / f"part-0000{i}.parquet").num_rows for i in (0, 2)] == [3, 2]
