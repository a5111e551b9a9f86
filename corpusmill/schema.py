"""The Arrow schemas every job reads and writes, declared once.

Documents are one row each; `meta` is JSON text so that arbitrary source fields survive
without a schema per source. Dead letters are a normal output with a schema of their own,
so failures can be counted and queried like documents.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypedDict

import pyarrow as pa

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("meta", pa.string(), nullable=False),
    ]
)

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
    ]
)


def stable_id(*parts: str) -> str:
    """A 20-hex-digit id derived only from `parts`, identical on every run and machine."""
    h = hashlib.blake2b(digest_size=10)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def content_hash(text: str) -> bytes:
    """Exact-duplicate key of a normalized text (16 bytes)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def meta_json(meta: dict[str, Any]) -> str:
    """Canonical JSON for the `meta` column: sorted keys so output bytes are reproducible."""
    return json.dumps(meta, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class DeadLetter(TypedDict):
    """One dead-letter row, the typed form of `DEAD_LETTER_SCHEMA` (a dict, so that lists of them
    become Arrow tables with `pa.Table.from_pylist(rows, schema=DEAD_LETTER_SCHEMA)`)."""

    id: str | None  # the document's id where one exists (a whole unreadable file has none)
    uri: str  # where the input came from
    stage: str  # the job step that gave up on it
    reason: str  # a stable snake_case code, counted in summaries
    error: str  # the error class
    message: str  # what happened, at most 2,000 characters


def dead_letter(*, uri: str, stage: str, reason: str, error: str, message: str, id: str | None = None) -> DeadLetter:
    """One dead-letter row; `reason` is a stable snake_case code."""
    return DeadLetter(id=id, uri=uri, stage=stage, reason=reason, error=error, message=message[:2000])
