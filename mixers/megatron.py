"""Megatron-LM indexed datasets (`.bin` + `.idx`), written and read from the format description.

`.bin` is the token ids of every sequence back to back, in one dtype. `.idx` (little endian):

    magic               9 bytes  b"MMIDIDX\\x00\\x00"
    version             uint64   1
    dtype code          uint8    1 uint8, 2 int8, 3 int16, 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16
    sequence count      uint64   S
    document count      uint64   D + 1 (document indices, a leading 0 included)
    sequence lengths    int32[S]    tokens per sequence
    sequence pointers   int64[S]    byte offset of each sequence in `.bin`
    document indices    int64[D+1]  sequence index where each document starts, then S

Qwen ids reach 151,668, so shards are int32 (code 4): Megatron has no uint32. Unknown dtype
codes or widths fail loudly instead of falling back, and the writer refuses ids that do not
fit the dtype.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

from corpusmill.errors import CorpusmillError

INDEX_MAGIC = b"MMIDIDX\x00\x00"
INDEX_VERSION = 1
DTYPE_UINT8 = 1
DTYPE_INT8 = 2
DTYPE_INT16 = 3
DTYPE_INT32 = 4
DTYPE_INT64 = 5
DTYPE_FLOAT64 = 6
DTYPE_FLOAT32 = 7
DTYPE_UINT16 = 8
DTYPE_BY_CODE: dict[int, np.dtype] = {
    DTYPE_UINT8: np.dtype(np.uint8),
    DTYPE_INT8: np.dtype(np.int8),
    DTYPE_INT16: np.dtype(np.int16),
    DTYPE_INT32: np.dtype(np.int32),
    DTYPE_INT64: np.dtype(np.int64),
    DTYPE_FLOAT64: np.dtype(np.float64),
    DTYPE_FLOAT32: np.dtype(np.float32),
    DTYPE_UINT16: np.dtype(np.uint16),
}
TOKEN_DTYPE_CODES = (DTYPE_UINT8, DTYPE_INT8, DTYPE_INT16, DTYPE_INT32, DTYPE_INT64, DTYPE_UINT16)
_HEADER = struct.Struct("<9sQBQQ")
BIN_SUFFIX = ".bin"
IDX_SUFFIX = ".idx"


class ShardFormatError(CorpusmillError, ValueError):
    """A `.bin`/`.idx` pair is malformed, or tokens do not fit the shard dtype."""


def dtype_code(dtype: np.dtype | type) -> int:
    dt = np.dtype(dtype)
    for code, known in DTYPE_BY_CODE.items():
        if known == dt and code in TOKEN_DTYPE_CODES:
            return code
    raise ShardFormatError(f"no Megatron token dtype code for {dt}")


def check_ids_fit(tokens: np.ndarray, dtype: np.dtype, vocab_size: int | None = None) -> None:
    """Fail when an id is negative, beyond `vocab_size`, or beyond what `dtype` holds."""
    if tokens.size == 0:
        return
    lo, hi = int(tokens.min()), int(tokens.max())
    limit = np.iinfo(dtype).max if vocab_size is None else min(np.iinfo(dtype).max, vocab_size - 1)
    if lo < 0 or hi > limit:
        raise ShardFormatError(f"token id out of range for {np.dtype(dtype)} (vocab {vocab_size}): min {lo}, max {hi}")


class IndexedDatasetWriter:
    """Appends sequences to an open `.bin` stream and builds the matching `.idx` bytes.

    A Megatron "document" groups consecutive sequences: call `end_document()` after each one
    (for a token stream every document is one sequence).
    """

    def __init__(self, bin_fh: IO[bytes], *, dtype: np.dtype | type = np.int32, vocab_size: int | None = None) -> None:
        self.bin_fh = bin_fh
        self.dtype = np.dtype(dtype)
        self.code = dtype_code(self.dtype)
        self.vocab_size = vocab_size
        self.lengths: list[int] = []
        self.doc_indices: list[int] = [0]
        self.n_bytes = 0

    def add_sequence(self, tokens: np.ndarray) -> None:
        check_ids_fit(tokens, self.dtype, self.vocab_size)
        self.bin_fh.write(tokens.astype(self.dtype, copy=False).tobytes())
        self.lengths.append(int(tokens.size))
        self.n_bytes += int(tokens.size) * self.dtype.itemsize

    def add_sequences(self, flat: np.ndarray, lengths: np.ndarray, *, one_document_each: bool = True) -> None:
        """Many sequences at once (`flat` is their tokens back to back): the fast path."""
        check_ids_fit(flat, self.dtype, self.vocab_size)
        first = len(self.lengths)
        self.bin_fh.write(flat.astype(self.dtype, copy=False).tobytes())
        self.lengths.extend(int(n) for n in lengths)
        self.n_bytes += int(flat.size) * self.dtype.itemsize
        if one_document_each:
            self.doc_indices.extend(range(first + 1, len(self.lengths) + 1))

    def end_document(self) -> None:
        self.doc_indices.append(len(self.lengths))

    def index_bytes(self) -> bytes:
        if self.doc_indices[-1] != len(self.lengths):
            raise ShardFormatError("sequences added after the last end_document()")
        lengths = np.asarray(self.lengths, dtype=np.int32)
        pointers = np.zeros(len(lengths), dtype=np.int64)
        if len(lengths):
            np.cumsum(lengths[:-1].astype(np.int64) * self.dtype.itemsize, out=pointers[1:])
        header = _HEADER.pack(INDEX_MAGIC, INDEX_VERSION, self.code, len(lengths), len(self.doc_indices))
        return header + lengths.tobytes() + pointers.tobytes() + np.asarray(self.doc_indices, np.int64).tobytes()


@dataclass(frozen=True)
class IndexedDataset:
    """A parsed `.idx` plus the `.bin` bytes it describes."""

    dtype: np.dtype
    lengths: np.ndarray
    pointers: np.ndarray
    doc_indices: np.ndarray
    tokens: np.ndarray  # the whole `.bin` as one array

    def __len__(self) -> int:
        return len(self.lengths)

    def sequence(self, i: int) -> np.ndarray:
        start = int(self.pointers[i]) // self.dtype.itemsize
        return self.tokens[start : start + int(self.lengths[i])]

    def sequences(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.sequence(i)


def parse_index(raw: bytes) -> tuple[np.dtype, np.ndarray, np.ndarray, np.ndarray]:
    """(dtype, lengths, pointers, document indices) from `.idx` bytes, every field checked."""
    if len(raw) < _HEADER.size:
        raise ShardFormatError(f"index too short ({len(raw)} bytes)")
    magic, version, code, n_seq, n_doc = _HEADER.unpack_from(raw)
    if magic != INDEX_MAGIC:
        raise ShardFormatError(f"not a Megatron index: magic {magic!r}")
    if version != INDEX_VERSION:
        raise ShardFormatError(f"unsupported index version {version}")
    if code not in DTYPE_BY_CODE or code not in TOKEN_DTYPE_CODES:
        raise ShardFormatError(f"unknown or non-integer dtype code {code}")
    expected = _HEADER.size + n_seq * 4 + n_seq * 8 + n_doc * 8
    if len(raw) != expected:
        raise ShardFormatError(f"index is {len(raw)} bytes, header says {expected}")
    off = _HEADER.size
    lengths = np.frombuffer(raw, np.int32, n_seq, off)
    pointers = np.frombuffer(raw, np.int64, n_seq, off + 4 * n_seq)
    doc_indices = np.frombuffer(raw, np.int64, n_doc, off + 12 * n_seq)
    return DTYPE_BY_CODE[code], lengths, pointers, doc_indices


def read_indexed_dataset(idx_bytes: bytes, bin_bytes: bytes) -> IndexedDataset:
    """Parse a pair and check it is self-consistent (pointers, sizes, document indices)."""
    dtype, lengths, pointers, doc_indices = parse_index(idx_bytes)
    if np.any(lengths < 0):
        raise ShardFormatError("negative sequence length")
    expected_ptr = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths):
        np.cumsum(lengths[:-1].astype(np.int64) * dtype.itemsize, out=expected_ptr[1:])
    if not np.array_equal(pointers, expected_ptr):
        raise ShardFormatError("sequence pointers do not follow the sequence lengths")
    total = int(lengths.astype(np.int64).sum()) * dtype.itemsize
    if total != len(bin_bytes):
        raise ShardFormatError(f".bin is {len(bin_bytes)} bytes, index says {total}")
    if (
        len(doc_indices) == 0
        or doc_indices[0] != 0
        or doc_indices[-1] != len(lengths)
        or np.any(np.diff(doc_indices) < 0)
    ):
        raise ShardFormatError("document indices must rise from 0 to the sequence count")
    tokens = np.frombuffer(bin_bytes, dtype)
    return IndexedDataset(dtype, lengths, pointers, doc_indices, tokens)
