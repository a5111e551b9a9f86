import numpy as np
import pyarrow as pa
import pytest

from corpusmill.mixers.packing import best_fit_decreasing, pack_layout, stream_layout


def instances(lengths, repeats=None):
    n = len(lengths)
    return pa.table(
        {
            "id": [f"d{i:05d}" for i in range(n)],
            "part": pa.array([0] * n, pa.int32()),
            "repeat": pa.array(repeats or [0] * n, pa.int32()),
            "start": pa.array([0] * n, pa.int64()),
            "length": pa.array(lengths, pa.int64()),
            "bucket": ["b"] * n,
            "n_tokens": pa.array(np.asarray(lengths) - 1, pa.int64()),  # lengths here include EOS
            "lang": ["en"] * n,
            "domain": ["x"] * n,
            "source": ["web"] * n,
        }
    )


def test_best_fit_decreasing_never_overfills():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, 500)
    bins, offsets = best_fit_decreasing(lengths, 100)
    for b in np.unique(bins):
        mine = np.flatnonzero(bins == b)
        spans = sorted(zip(offsets[mine], offsets[mine] + lengths[mine]))
        assert spans[-1][1] <= 100 and all(a[1] <= b_[0] for a, b_ in zip(spans, spans[1:]))
    assert len(np.unique(bins)) <= lengths.sum() / 100 * 1.05 + 1


def test_padding_under_two_percent_on_heavy_tailed_lengths():
    rng = np.random.default_rng(1)
    lengths = np.exp(rng.uniform(np.log(300), np.log(32_768), 2000)).astype(np.int64)
    layout = pack_layout(instances(lengths), seed=3, seq_len=32_768, shard_tokens=1 << 22, long_documents="split")
    assert layout.padding_ratio < 0.02, layout.padding_ratio
    assert layout.content_tokens == int(lengths.sum())


def test_long_context_mix_pads_close_to_the_floor():
    # S3: 75% of tokens from 16k-32k documents (one sequence each at least), 25% from 4k-16k.
    rng = np.random.default_rng(1)
    lengths = np.concatenate([rng.integers(16_385, 32_768, 300), rng.integers(4_097, 16_384, 250)])
    layout = pack_layout(instances(lengths), seed=3, seq_len=32_768, shard_tokens=1 << 22, long_documents="split")
    n_seqs = len(set(zip(layout.placements.column("shard").to_pylist(), layout.placements.column("seq").to_pylist())))
    assert layout.padding_tokens == n_seqs * 32_768 - int(lengths.sum())
    assert layout.padding_floor <= layout.padding_ratio < layout.padding_floor + 0.03


@pytest.mark.parametrize("policy", ["split", "skip"])
def test_over_long_documents_split_or_skipped_never_truncated(policy):
    lengths = [50, 250, 90, 30]
    layout = pack_layout(instances(lengths), seed=0, seq_len=100, shard_tokens=1000, long_documents=policy)
    p = layout.placements
    got = {}
    for i, start, length in zip(
        p.column("id").to_pylist(), p.column("start").to_pylist(), p.column("length").to_pylist()
    ):
        got.setdefault(i, []).append((start, length))
    if policy == "split":
        assert sorted(got["d00001"]) == [(0, 100), (100, 100), (200, 50)]
        assert layout.skipped.num_rows == 0
    else:
        assert "d00001" not in got and layout.skipped.column("id").to_pylist() == ["d00001"]
    assert all(sum(n for _, n in parts) == lengths[int(i[1:])] for i, parts in got.items())
    assert all(p.column("length").to_numpy() <= 100)


def test_stream_layout_shuffles_and_fills_shards():
    lengths = [100] * 50
    a = stream_layout(instances(lengths), seed=1, shard_tokens=1000)
    b = stream_layout(instances(lengths), seed=2, shard_tokens=1000)
    assert a.n_shards == 5 and a.placements.column("shard").to_pylist() == sorted(
        a.placements.column("shard").to_pylist()
    )
    assert a.placements.column("id").to_pylist() != b.placements.column("id").to_pylist()
    assert sorted(a.placements.column("id").to_pylist()) == [f"d{i:05d}" for i in range(50)]
    assert a.padding_tokens == 0 and a.pad_to is None
