"""The dedup sidecar: one row per document, keyed by `id`, mirroring DOCS_DIR's part files."""

from __future__ import annotations

import pyarrow as pa

MODEL = "minhash_lsh"
VERSION = "1"
# dup_rule of documents that were never clustered.
RULE_UNIQUE = "unique"
RULE_NO_SIGNATURE = "no_signature"

DEDUP_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        # The id of the cluster's first document: the same whatever the keep rule or workers.
        pa.field("dup_cluster", pa.string(), nullable=False),
        pa.field("dup_cluster_size", pa.int32(), nullable=False),
        pa.field("dup_keep", pa.bool_(), nullable=False),
        # Signature Jaccard estimate against the kept document (null: no signature).
        pa.field("dup_jaccard_est", pa.float32()),
        # edu_score | first | first_fallback for clustered documents, else unique | no_signature.
        pa.field("dup_rule", pa.string(), nullable=False),
        pa.field("dup_model", pa.string(), nullable=False),
        pa.field("dup_model_version", pa.string(), nullable=False),
    ]
)


def model_name(ngram: int, bands: int, rows: int, threshold: float) -> str:
    """What makes two runs' labels comparable, in the label itself."""
    return f"{MODEL}-{ngram}gram-{bands}x{rows}-t{threshold:g}"
