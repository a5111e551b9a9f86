import numpy as np
import pyarrow as pa
import pytest

from corpusmill.mixers.recipe import recipe_from_dict
from corpusmill.mixers.sampler import id_keys, sample_bucket, sample_stage, uniform


def candidates(n, *, seed=0, buckets=1):
    rng = np.random.default_rng(seed)
    n_tokens = rng.integers(20, 2000, n)
    return pa.table(
        {
            "id": [f"doc-{i:06d}" for i in range(n)],
            "part": pa.array([0] * n, pa.int32()),
            "start": pa.array([0] * n, pa.int64()),
            "length": n_tokens + 1,
            "n_tokens": n_tokens,
            "bucket": pa.array(rng.integers(0, buckets, n), pa.int32()),
            "weight": rng.uniform(0.1, 5.0, n),
            "lang": ["en"] * n,
            "domain": ["other"] * n,
            "source": ["web"] * n,
        }
    )


def stage(budget, buckets):
    return recipe_from_dict(
        {"stages": [{"name": "s", "seq_len": 4096, "budget_tokens": budget, "seed": 11, "buckets": buckets}]}
    ).stages[0]


def test_uniform_is_stable_and_spread():
    keys = id_keys([f"d{i}" for i in range(20000)])
    u = uniform(3, keys, 0)
    assert np.array_equal(u, uniform(3, keys, 0))
    assert not np.array_equal(u, uniform(4, keys, 0)) and not np.array_equal(u, uniform(3, keys, 1))
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.01


@pytest.mark.parametrize("share_a", [0.3, 0.55, 0.9])
def test_budgets_met_within_half_a_percent(share_a):
    c = candidates(3000, buckets=2)
    st = stage(
        1_500_000,
        [
            {"name": "a", "where": "bucket = 0", "share": share_a, "weight": "w", "max_repeats": 3},
            {"name": "b", "where": "TRUE", "share": round(1 - share_a, 6), "max_repeats": 3},
        ],
    )
    instances, plans = sample_stage(st, c)
    for plan in plans:
        assert plan.status == "ok" and abs(plan.deviation) <= 0.005, plan.describe()
    assert instances.num_rows == sum(p.instances for p in plans)
    tokens = (instances.column("n_tokens").to_numpy() + 1).sum()
    assert tokens == sum(p.tokens for p in plans)


def test_same_selection_whatever_the_row_order():
    c = candidates(500)
    st = stage(300_000, [{"name": "a", "where": "TRUE", "share": 1.0, "weight": "w", "max_repeats": 2}])
    a, _ = sample_stage(st, c)
    perm = np.random.default_rng(5).permutation(c.num_rows)
    b, _ = sample_stage(st, c.take(pa.array(perm)).sort_by("id"))
    assert a.equals(b)
    other, _ = sample_stage(
        stage(300_000, [{"name": "a", "where": "TRUE", "share": 1.0, "weight": "w", "max_repeats": 2}]).__class__(
            **{**st.__dict__, "seed": 12}
        ),
        c,
    )
    assert not other.equals(a)


def test_higher_weight_means_more_uses():
    c = candidates(4000)
    st = stage(800_000, [{"name": "a", "where": "TRUE", "share": 1.0, "weight": "w", "max_repeats": 4}])
    inst, _ = sample_stage(st, c)
    used = set(inst.column("id").to_pylist())
    w = c.column("weight").to_numpy()
    ids = c.column("id").to_pylist()
    hi = np.mean([ids[i] in used for i in np.flatnonzero(w > 4)])
    lo = np.mean([ids[i] in used for i in np.flatnonzero(w < 1)])
    assert hi > 2 * lo


def test_shortfall_is_reported_with_numbers():
    keys = id_keys(["a", "b", "c"])
    lengths = np.array([101, 201, 301])
    counts, plan = sample_bucket("tiny", keys, lengths, np.ones(3), seed=0, cap=2, target=10_000)
    assert counts.tolist() == [2, 2, 2] and plan.status == "short" and plan.tokens == 1206
    text = plan.describe()
    assert "CANNOT MEET" in text and "603 tokens x max_repeats 2 = 1,206" in text and "short by 8,794" in text


def test_empty_bucket_is_reported():
    counts, plan = sample_bucket("none", id_keys([]), np.zeros(0, np.int64), np.zeros(0), seed=0, cap=1, target=500)
    assert plan.status == "empty" and plan.tokens == 0 and "no document matches" in plan.describe()


def test_weight_bucket_uses_expected_repeats():
    n = 20000
    keys = id_keys([f"d{i}" for i in range(n)])
    counts, plan = sample_bucket("w", keys, np.full(n, 10), np.full(n, 1.5), seed=1, cap=4, target=None)
    assert set(np.unique(counts)) == {1, 2} and abs(counts.mean() - 1.5) < 0.02 and plan.target_tokens is None
    capped, _ = sample_bucket("w", keys, np.full(n, 10), np.full(n, 9.0), seed=1, cap=4, target=None)
    assert capped.max() == 4


def test_bucket_whose_weights_are_all_zero():
    counts, plan = sample_bucket("zero", id_keys(["a", "b"]), np.array([10, 20]), np.zeros(2), seed=0, cap=2, target=50)
    assert counts.tolist() == [0, 0] and plan.status == "empty" and "weight 0" in plan.describe()
