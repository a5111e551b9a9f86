"""Shard files of one stage: assemble sequences from placed token slices, write, verify, inspect.

A shard `shard-NNNNN` is three files: `.bin` and `.idx` (Megatron indexed dataset, int32)
and `.provenance.parquet`, one row per placed slice: (seq, offset, id, repeat, part, start,
length, bucket), so every token of a shard maps back to its document. The provenance file
is written last: a shard is finished when all three exist, which is what a re-run checks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusmill import storage
from corpusmill.mixers.megatron import (
    BIN_SUFFIX,
    IDX_SUFFIX,
    IndexedDataset,
    IndexedDatasetWriter,
    ShardFormatError,
    read_indexed_dataset,
)
from corpusmill.mixers.packing import PLACEMENT_SCHEMA
from corpusmill.mixers.tokenizer import TOKEN_DTYPE

PROVENANCE_SUFFIX = ".provenance.parquet"
SHARD_RE = re.compile(r"^shard-(\d{5})\.provenance\.parquet$")
PROVENANCE_SCHEMA = pa.schema([f for f in PLACEMENT_SCHEMA if f.name != "shard"])


def shard_stem(stage_dir: str, shard: int) -> str:
    return storage.join(stage_dir, f"shard-{shard:05d}")


def shard_files(stage_dir: str, shard: int) -> list[str]:
    stem = shard_stem(stage_dir, shard)
    return [stem + BIN_SUFFIX, stem + IDX_SUFFIX, stem + PROVENANCE_SUFFIX]


def finished_shards(stage_dir: str) -> set[int]:
    fs, p = storage.filesystem(stage_dir)
    if not fs.exists(p):
        return set()
    names = {x.rsplit("/", 1)[-1] for x in fs.ls(p, detail=False)}
    done = set()
    for name in names:
        m = SHARD_RE.match(name)
        if m and {f"shard-{m.group(1)}{BIN_SUFFIX}", f"shard-{m.group(1)}{IDX_SUFFIX}"} <= names:
            done.add(int(m.group(1)))
    return done


@dataclass(frozen=True)
class SliceGroup:
    """Token slices bound for one shard: their tokens back to back and one provenance row each.

    One numpy array and one Arrow table per (token file, shard) rather than an object per slice:
    Beam serializes what crosses the GroupByKey, and two buffers cost a copy, not a pickle each.
    """

    tokens: np.ndarray  # int32, slices back to back in provenance order
    provenance: pa.Table  # PROVENANCE_SCHEMA; `length` is each slice's token count


def cut_slices(placements: pa.Table, docs: dict[str, np.ndarray], eos_id: int) -> SliceGroup:
    """The slices `placements` (rows of one shard) take from `docs` (ids without end-of-document token).

    A slice that reaches one past its document's end is the last part and ends with `eos_id`.
    """
    lengths = placements.column("length").to_numpy()
    tokens = np.empty(int(lengths.sum()), dtype=TOKEN_DTYPE)
    pos = 0
    for doc_id, start, length in zip(
        placements.column("id").to_pylist(), placements.column("start").to_pylist(), lengths.tolist()
    ):
        doc, end = docs[doc_id], start + length
        if end <= len(doc):
            tokens[pos : pos + length] = doc[start:end]
        elif end == len(doc) + 1:
            tokens[pos : pos + length - 1] = doc[start:]
            tokens[pos + length - 1] = eos_id
        else:
            raise ShardFormatError(f"placement of {doc_id} ends at {end}, past its {len(doc)} tokens and end marker")
        pos += length
    return SliceGroup(tokens, placements.select(PROVENANCE_SCHEMA.names).cast(PROVENANCE_SCHEMA))


def assemble(
    groups: Iterable[SliceGroup], *, pad_to: int | None, pad_id: int
) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """(flat tokens, sequence lengths, provenance) of a shard from its slices, in (seq, offset) order."""
    groups = list(groups)
    prov = pa.concat_tables([g.provenance for g in groups]).combine_chunks()
    tokens = np.concatenate([g.tokens for g in groups])
    seq, offset, length = (prov.column(c).to_numpy() for c in ("seq", "offset", "length"))
    seqs = np.unique(seq)
    if not np.array_equal(seqs, np.arange(len(seqs))):
        raise ShardFormatError(f"shard sequences are not contiguous: {seqs[:5].tolist()}...")
    if pad_to is None:
        lengths = np.zeros(len(seqs), np.int64)
        np.maximum.at(lengths, seq, offset + length)
    else:
        lengths = np.full(len(seqs), pad_to, np.int64)
    starts = np.cumsum(lengths) - lengths
    flat = np.full(int(lengths.sum()), pad_id, dtype=TOKEN_DTYPE)
    src = np.cumsum(length) - length
    dst = starts[seq] + offset
    order = np.lexsort((offset, seq))
    for i in order.tolist():
        flat[dst[i] : dst[i] + length[i]] = tokens[src[i] : src[i] + length[i]]
    return flat, lengths, prov.take(pa.array(order))


def write_shard(
    stage_dir: str, shard: int, flat: np.ndarray, lengths: np.ndarray, provenance: pa.Table, *, vocab_size: int
) -> None:
    bin_path, idx_path, prov_path = shard_files(stage_dir, shard)
    with storage.atomic_write(bin_path) as fh:
        writer = IndexedDatasetWriter(fh, dtype=TOKEN_DTYPE, vocab_size=vocab_size)
        writer.add_sequences(flat, lengths)
    with storage.atomic_write(idx_path) as fh:
        fh.write(writer.index_bytes())
    storage.write_parquet(provenance, prov_path)


def file_digest(path: str) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of a file, read in 8 MiB blocks."""
    fs, p = storage.filesystem(path)
    h, size = hashlib.sha256(), 0
    with fs.open(p, "rb") as fh:
        while block := fh.read(1 << 23):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


def read_bytes(path: str) -> bytes:
    fs, p = storage.filesystem(path)
    with fs.open(p, "rb") as fh:
        return fh.read()


def open_shard(stage_dir: str, shard: int) -> tuple[IndexedDataset, pa.Table]:
    bin_path, idx_path, prov_path = shard_files(stage_dir, shard)
    return read_indexed_dataset(read_bytes(idx_path), read_bytes(bin_path)), storage.read_parquet(prov_path)


def document_tokens(ds: IndexedDataset, provenance: pa.Table, row: int) -> np.ndarray:
    """The tokens one provenance row points at."""
    seq, offset, length = (provenance.column(c)[row].as_py() for c in ("seq", "offset", "length"))
    return ds.sequence(seq)[offset : offset + length]


def stage_dirs(out: str, manifest_name: str = "manifest.json") -> list[str]:
    """`out` itself when it is a stage folder, else its sub-folders that hold a stage."""
    if storage.exists(storage.join(out, manifest_name)):
        return [out]
    fs, p = storage.filesystem(out)
    if not fs.isdir(p):
        return []
    subdirs = sorted(x.rsplit("/", 1)[-1] for x in fs.ls(p, detail=False) if fs.isdir(x))
    return [storage.join(out, d) for d in subdirs if not d.startswith(("_", "."))]


def sample_slices(stage_dir: str, n: int) -> list[tuple[dict, np.ndarray]]:
    """The first `n` provenance rows of the first shards (already shuffled) with their tokens."""
    found: list[tuple[dict, np.ndarray]] = []
    for shard in sorted(finished_shards(stage_dir)):
        ds, prov = open_shard(stage_dir, shard)
        for row in range(min(prov.num_rows, n - len(found))):
            found.append(({**prov.slice(row, 1).to_pylist()[0], "shard": shard}, document_tokens(ds, prov, row)))
        if len(found) >= n:
            break
    return found
