"""Names and helpers of the output-folder contract every job keeps, declared once.

A job's output folder holds numbered Parquet parts (each carrying its own counts in its
footer, so a summary or a resumed run reads footers, not state files), its dead letters,
the run fingerprint, the final summary and, for LLM jobs, a usage ledger and a response cache.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmill import storage

# `<out>/_dead_letters/<stage>-NNNNN.parquet`: every job's failed records.
DEAD_LETTERS_DIR = "_dead_letters"
# The fingerprint of the inputs and config a folder holds (written first, checked on re-runs).
RUN_FILE = "_run.json"
# Counts, timing and rates of a finished run (written last: its presence means "complete").
SUMMARY_FILE = "_summary.json"
# An LLM job's token usage, folded into the summary at the end.
LEDGER_FILE = "_llm_ledger.json"
# Durable, content-keyed cache of LLM responses, so a resumed run re-asks nothing.
LLM_CACHE_DIR = "_llm_cache"
# Footer metadata key of a part file's own counts.
STATS_KEY = b"corpusmill.stats"


def part_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, f"part-{index:05d}.parquet")


def with_stats(table: pa.Table, stats: dict[str, Any]) -> pa.Table:
    """The table with its counts in the footer, where `file_stats` finds them."""
    return table.replace_schema_metadata({STATS_KEY: json.dumps(stats, sort_keys=True)})


def file_stats(path: str) -> dict[str, Any]:
    """The counts a part file carries in its footer ({} for a file without them)."""
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        meta = pq.ParquetFile(fh).schema_arrow.metadata or {}
    return json.loads(meta.get(STATS_KEY, b"{}"))
