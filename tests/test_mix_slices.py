import numpy as np
import pyarrow as pa
import pytest

from corpusmill.mixers.megatron import ShardFormatError
from corpusmill.mixers.packing import PLACEMENT_SCHEMA
from corpusmill.mixers.shards import PROVENANCE_SCHEMA, assemble, cut_slices

EOS = 99
DOCS = {"a": np.array([1, 2, 3, 4], np.int32), "b": np.array([5, 6], np.int32)}


def placements(rows):
    names = PLACEMENT_SCHEMA.names
    return pa.Table.from_pylist([dict(zip(names, r)) for r in rows], schema=PLACEMENT_SCHEMA)


def test_cut_slices_adds_the_end_marker_only_to_last_parts():
    # shard, seq, offset, id, repeat, part, start, length, bucket
    group = cut_slices(
        placements([(0, 1, 0, "a", 0, 0, 0, 3), (0, 0, 0, "a", 0, 1, 3, 2), (0, 1, 3, "b", 0, 0, 0, 3)]), DOCS, EOS
    )
    assert group.tokens.tolist() == [1, 2, 3, 4, EOS, 5, 6, EOS]
    assert group.provenance.schema == PROVENANCE_SCHEMA and group.provenance.column("id").to_pylist() == ["a", "a", "b"]


def test_assemble_orders_by_sequence_and_offset_across_groups():
    first = cut_slices(placements([(0, 1, 0, "a", 0, 0, 0, 3)]), DOCS, EOS)
    second = cut_slices(placements([(0, 0, 0, "a", 0, 1, 3, 2), (0, 1, 3, "b", 0, 0, 0, 3)]), DOCS, EOS)
    flat, lengths, prov = assemble([first, second], pad_to=None, pad_id=EOS)
    assert flat.tolist() == [4, EOS, 1, 2, 3, 5, 6, EOS] and lengths.tolist() == [2, 6]
    assert prov.column("seq").to_pylist() == [0, 1, 1] and prov.column("offset").to_pylist() == [0, 0, 3]
    flat, lengths, _ = assemble([second, first], pad_to=8, pad_id=0)
    assert flat.tolist() == [4, EOS] + [0] * 6 + [1, 2, 3, 5, 6, EOS, 0, 0] and lengths.tolist() == [8, 8]


def test_placement_past_the_end_marker_is_refused():
    with pytest.raises(ShardFormatError):
        cut_slices(placements([(0, 0, 0, "b", 0, 0, 1, 3)]), DOCS, EOS)


def test_gap_in_sequences_is_refused():
    group = cut_slices(placements([(0, 1, 0, "b", 0, 0, 0, 3)]), DOCS, EOS)
    with pytest.raises(ShardFormatError):
        assemble([group], pad_to=None, pad_id=EOS)
