"""The token sidecar: every document's ids under the stage tokenizer, computed once and reused.

Layout: `SHARDS_DIR/_tokens/<tokenizer fingerprint[:16]>/<docs file>-rg<N>-<file key>.parquet`
with columns id, n_tokens, tokens (list<int32>, no end-of-document token), one file per
row group of each documents file. The file key comes from the documents file's size and
Parquet footer, so a changed input is re-tokenized and an unchanged one never is. The
selection reads `n_tokens` from here; the shard writers read `tokens`.
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
TOKEN_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("n_tokens", pa.int64(), nullable=False),
        pa.field("tokens", pa.list_(pa.int32()), nullable=False),
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
    mark = json.dumps([fs.info(p).get("size"), meta.to_dict()], sort_keys=True, default=str)
    return hashlib.blake2b(mark.encode(), digest_size=6).hexdigest(), meta.num_row_groups


def cache_file(folder: str, docs_path: str, row_group: int, key: str) -> str:
    stem = os.path.basename(docs_path).removesuffix(".parquet")
    return storage.join(folder, f"{stem}-rg{row_group:05d}-{key}.parquet")


def tokenize_table(docs: pa.Table, tokenizer: Tokenizer) -> pa.Table:
    """id, n_tokens, tokens for each row of a documents table (text encoded as ordinary text)."""
    flat, lengths = tokenizer.encode_flat(docs.column("text").to_pylist())
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    tokens = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    return pa.table({"id": docs.column("id"), "n_tokens": lengths, "tokens": tokens}, schema=TOKEN_SCHEMA)


def tokenize_row_group(docs_path: str, row_group: int, target: str, tokenizer: Tokenizer) -> int:
    """Tokenize one row group into `target` (atomically); returns the documents written."""
    fs, p = storage.filesystem(docs_path)
    with fs.open(p, "rb") as fh:
        docs = pq.ParquetFile(fh).read_row_group(row_group, columns=["id", "text"])
    table = tokenize_table(docs, tokenizer)
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
