"""The token sidecar: every document's ids under the stage tokenizer, computed once and reused.

Layout: `SHARDS_DIR/_tokens/<tokenizer fingerprint[:16]>/<docs file>-rg<N>-<file key>.parquet`
with columns id, n_tokens, tokens (list<int32>, no end-of-document token) and breaks (token
offsets just after each paragraph break, for documents of `BREAKS_MIN_TOKENS` or more: where
long documents are cut into windows), one file per row group of each documents file. The
file key comes from the documents file's size and Parquet footer, so a changed input is
re-tokenized and an unchanged one never is. The selection reads `n_tokens` and `breaks`
from here; the shard writers read `tokens`.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.mixers.tokenizer import Tokenizer

TOKENS_DIR = "_tokens"
# Part of every file key: a sidecar written with other columns is never read as this one.
SIDECAR_VERSION = 2
# Only documents this long can need windows (the shortest packed sequence we expect is 2K).
BREAKS_MIN_TOKENS = 2048
TOKEN_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("n_tokens", pa.int64(), nullable=False),
        pa.field("tokens", pa.list_(pa.int32()), nullable=False),
        pa.field("breaks", pa.list_(pa.int32()), nullable=False),
    ]
)


def cache_dir(out: str, tokenizer: Tokenizer) -> str:
    return storage.join(out, TOKENS_DIR, tokenizer.fingerprint[:16])


def file_key(path: str) -> tuple[str, int]:
    """(key, row groups) of a documents file, from its size and Parquet footer.

    The footer holds every column chunk's compressed size and statistics, so an edited file
    gets a new key while a copy of the same bytes (other machine, other mtime) keeps it;
    reading it costs a few kilobytes, not the whole file.
    """
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        meta = pq.ParquetFile(fh).metadata
    mark = json.dumps([SIDECAR_VERSION, fs.info(p).get("size"), meta.to_dict()], sort_keys=True, default=str)
    return hashlib.blake2b(mark.encode(), digest_size=6).hexdigest(), meta.num_row_groups


def row_group_rows(path: str) -> list[int]:
    """Rows of each row group of a documents file (from its footer)."""
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        meta = pq.ParquetFile(fh).metadata
    return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]


def cache_file(folder: str, docs_path: str, row_group: int, key: str) -> str:
    stem = os.path.basename(docs_path).removesuffix(".parquet")
    return storage.join(folder, f"{stem}-rg{row_group:05d}-{key}.parquet")


class BreakTokens:
    """Which token ids end a paragraph: their text ends in whitespace holding two or more newlines.

    Ids are judged (through `decode`, so any tokenizer works) the first time a long document
    uses them and remembered in two vocabulary-sized flags, so after warm-up finding a
    document's breaks is one gather over its tokens.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.known = np.zeros(tokenizer.vocab_size, dtype=bool)
        self.is_break = np.zeros(tokenizer.vocab_size, dtype=bool)

    def _judge(self, token: int) -> bool:
        text = self.tokenizer.decode([token])
        tail = text[len(text.rstrip()) :]
        return tail.count("\n") >= 2

    def positions(self, tokens: np.ndarray) -> np.ndarray:
        """Offsets just after each paragraph-break token of one document."""
        new = np.unique(tokens[~self.known[tokens]])
        for t in new.tolist():
            self.is_break[t] = self._judge(t)
        self.known[new] = True
        return np.flatnonzero(self.is_break[tokens]).astype(np.int64) + 1


def tokenize_table(docs: pa.Table, tokenizer: Tokenizer, breaks: BreakTokens | None = None) -> pa.Table:
    """id, n_tokens, tokens, breaks for each row of a documents table (text encoded as ordinary text)."""
    flat, lengths = tokenizer.encode_flat(docs.column("text").to_pylist())
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tokens = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(flat))
    breaks = breaks or BreakTokens(tokenizer)
    found = [
        breaks.positions(flat[offsets[i] : offsets[i + 1]]).astype(np.int32)
        if n >= BREAKS_MIN_TOKENS
        else np.zeros(0, np.int32)
        for i, n in enumerate(np.asarray(lengths).tolist())
    ]
    break_offsets = np.zeros(len(found) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in found], out=break_offsets[1:])
    flat_breaks = np.concatenate(found) if found else np.zeros(0, np.int32)
    break_lists = pa.ListArray.from_arrays(pa.array(break_offsets), pa.array(flat_breaks, pa.int32()))
    return pa.table(
        {"id": docs.column("id"), "n_tokens": lengths, "tokens": tokens, "breaks": break_lists}, schema=TOKEN_SCHEMA
    )


def tokenize_row_group(
    docs_path: str, row_group: int, target: str, tokenizer: Tokenizer, breaks: BreakTokens | None = None
) -> int:
    """Tokenize one row group into `target` (atomically); returns the documents written."""
    fs, p = storage.filesystem(docs_path)
    with fs.open(p, "rb") as fh:
        docs = pq.ParquetFile(fh).read_row_group(row_group, columns=["id", "text"])
    table = tokenize_table(docs, tokenizer, breaks)
    with storage.atomic_write(target) as out:
        # lz4: token ids barely compress, and this file is read back once per stage.
        pq.write_table(table, out, compression="lz4", use_dictionary=["id"], row_group_size=storage.ROW_GROUP_ROWS)
    return table.num_rows


def read_token_rows(path: str, ids: set[str]) -> dict[str, np.ndarray]:
    """Token arrays of the wanted ids in one sidecar file (views into one buffer, no per-row copy)."""
    table = storage.read_parquet(path, columns=["id", "tokens"])
    wanted = pc.is_in(table.column("id"), value_set=pa.array(sorted(ids), pa.string()))
    rows = np.flatnonzero(wanted.to_numpy(zero_copy_only=False)).tolist()
    tokens = table.column("tokens").combine_chunks()
    flat = tokens.values.to_numpy(zero_copy_only=False)
    offsets = tokens.offsets.to_numpy()
    names = table.column("id").take(pa.array(rows, pa.int64())).to_pylist()
    return {name: flat[offsets[k] : offsets[k + 1]] for name, k in zip(names, rows)}
