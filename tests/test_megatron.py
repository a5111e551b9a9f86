import io
import struct

import numpy as np
import pytest

from corpusmill.mixers.megatron import (
    DTYPE_INT32,
    INDEX_MAGIC,
    IndexedDatasetWriter,
    ShardFormatError,
    dtype_code,
    parse_index,
    read_indexed_dataset,
)


def _write(seqs, docs_of=None, **kw):
    buf = io.BytesIO()
    w = IndexedDatasetWriter(buf, **kw)
    for s in seqs:
        w.add_sequence(np.asarray(s))
        if docs_of is None:
            w.end_document()
    if docs_of is not None:
        w.end_document()
    return w.index_bytes(), buf.getvalue()


def test_layout_follows_the_format_description():
    idx, bin_ = _write([[1, 2, 3], [151643], [7, 8]], vocab_size=151669)
    magic, version, code, n_seq, n_doc = struct.unpack_from("<9sQBQQ", idx)
    assert (magic, version, code, n_seq, n_doc) == (INDEX_MAGIC, 1, DTYPE_INT32, 3, 4)
    off = 9 + 8 + 1 + 8 + 8
    assert np.frombuffer(idx, np.int32, 3, off).tolist() == [3, 1, 2]
    assert np.frombuffer(idx, np.int64, 3, off + 12).tolist() == [0, 12, 16]
    assert np.frombuffer(idx, np.int64, 4, off + 36).tolist() == [0, 1, 2, 3]
    assert np.frombuffer(bin_, np.int32).tolist() == [1, 2, 3, 151643, 7, 8]
    ds = read_indexed_dataset(idx, bin_)
    assert [s.tolist() for s in ds.sequences()] == [[1, 2, 3], [151643], [7, 8]]


def test_bulk_add_matches_one_by_one():
    seqs = [[5, 6], [7], [8, 9, 10]]
    buf = io.BytesIO()
    w = IndexedDatasetWriter(buf)
    w.add_sequences(np.array([5, 6, 7, 8, 9, 10]), np.array([2, 1, 3]))
    assert (w.index_bytes(), buf.getvalue()) == _write(seqs)


def test_multi_sequence_documents():
    idx, bin_ = _write([[1], [2], [3]], docs_of="one")
    assert read_indexed_dataset(idx, bin_).doc_indices.tolist() == [0, 3]


@pytest.mark.parametrize("bad", [[-1], [151669], [2**31]])
def test_out_of_range_ids_fail(bad):
    with pytest.raises(ShardFormatError, match="out of range"):
        _write([[1, *bad]], vocab_size=151669 if bad[0] < 2**31 else None)


def test_unknown_width_fails():
    with pytest.raises(ShardFormatError):
        dtype_code(np.float32)
    with pytest.raises(ShardFormatError):
        dtype_code(np.uint32)


def test_reader_rejects_corrupt_pairs():
    idx, bin_ = _write([[1, 2, 3], [4]])
    with pytest.raises(ShardFormatError, match="magic"):
        parse_index(b"XXXXXXXXX" + idx[9:])
    with pytest.raises(ShardFormatError, match="dtype code"):
        parse_index(idx[:17] + bytes([9]) + idx[18:])
    with pytest.raises(ShardFormatError, match="dtype code"):
        parse_index(idx[:17] + bytes([7]) + idx[18:])  # float32 is not a token dtype
    with pytest.raises(ShardFormatError, match="version"):
        parse_index(idx[:9] + struct.pack("<Q", 2) + idx[17:])
    with pytest.raises(ShardFormatError, match="bytes"):
        parse_index(idx[:-1])
    with pytest.raises(ShardFormatError, match=".bin is"):
        read_indexed_dataset(idx, bin_[:-4])
