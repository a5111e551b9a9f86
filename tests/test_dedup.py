"""The dedup room on its own: banding, signatures, candidate pairs, components, keep rule."""

from __future__ import annotations

import random

import numpy as np
import pytest

from corpusmill import minhash
from corpusmill.dedup import components, lsh
from corpusmill.dedup.config import DedupConfig, candidate_probability, choose_bands, s_curve
from corpusmill.dedup.keep import choose_kept
from corpusmill.errors import ConfigError
from tests.dedup_corpus import edit, sample_rows

CFG = DedupConfig()


def sign(texts: list[str], config: DedupConfig = CFG) -> minhash.Signatures:
    return minhash.signatures(
        texts, ngram=config.ngram, num_perm=config.num_perm, seed=config.seed, min_tokens=config.min_tokens
    )


def true_jaccard(a: str, b: str, n: int = 5) -> float:
    x, y = set(minhash.shingles(a, n).tolist()), set(minhash.shingles(b, n).tolist())
    return len(x & y) / len(x | y)


def test_bands_follow_the_threshold_and_reach_the_target_rate():
    assert choose_bands(0.8, 112) == (16, 7)
    for t in (0.5, 0.7, 0.8, 0.9):
        b, r = choose_bands(t, 112)
        assert b * r <= 112 and candidate_probability(t, b, r) >= 0.95
        # one more row per band would miss the target: this is the steepest such curve
        assert candidate_probability(t, 112 // (r + 1), r + 1) < 0.95
    assert DedupConfig(bands=14, rows=8).num_perm == 112
    assert "14 bands x 8 rows" in s_curve(DedupConfig(bands=14, rows=8))


@pytest.mark.parametrize("kwargs", [{"threshold": 0}, {"bands": 3}, {"ngram": 0}, {"keep": "longest"}])
def test_bad_options_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        DedupConfig(**kwargs)


def test_whitespace_and_case_do_not_change_the_signature():
    a = "The quick brown fox jumps over the lazy dog near the river bank today."
    b = "  the QUICK brown\n\nfox   jumps over the LAZY dog, near the river-bank today!  "
    s = sign([a, b])
    assert s.signed.all() and np.array_equal(s.values[0], s.values[1])


def test_empty_and_short_documents_get_no_signature():
    s = sign(["", "   ", "two words", "one two three four", "one two three four five"])
    assert s.signed.tolist() == [False, False, False, False, True]
    assert s.tokens.tolist() == [0, 0, 2, 4, 5]


def test_one_repeated_shingle_is_a_signature_of_one_value_per_hash():
    s = sign(["spam " * 200, "spam " * 7, "ham " * 200])
    assert s.signed.all()
    assert np.array_equal(s.values[0], s.values[1])  # the same single shingle
    assert minhash.jaccard_estimate(s.values[0], s.values[2]) < 0.05


def test_estimate_tracks_true_jaccard_on_edited_real_text():
    rng = random.Random(7)
    rows = [r for r in sample_rows() if r["source"] == "sib200"][:120]
    errors = []
    for r in rows:
        copy = edit(r["text"], rng.uniform(0.01, 0.15), rng)
        s = sign([r["text"], copy])
        if s.signed.all():
            errors.append(minhash.jaccard_estimate(s.values[0], s.values[1]) - true_jaccard(r["text"], copy))
    errors_arr = np.array(errors)
    assert len(errors_arr) > 100
    assert abs(errors_arr.mean()) < 0.02  # unbiased
    assert errors_arr.std() < 0.06  # about sqrt(J(1-J)/112) <= 0.047


def test_unspaced_scripts_use_character_ngrams():
    zh = "北京是中华人民共和国的首都，也是全国的政治中心和文化中心，历史悠久。"
    changed = zh.replace("文化", "经济")
    s = sign([zh, changed, "完全不同的一句话，讲的是另外一件事情和别的地方。"])
    assert s.tokens[0] == len([c for c in zh if c.isalnum()])  # one token per character
    assert len(set(minhash.shingles(zh, 5).tolist())) == s.tokens[0] - 4
    est = minhash.jaccard_estimate(s.values[0], s.values[1])
    assert 0.5 < true_jaccard(zh, changed) < 0.8 and abs(est - true_jaccard(zh, changed)) < 0.15
    assert minhash.jaccard_estimate(s.values[0], s.values[2]) < 0.1


def test_signatures_do_not_depend_on_batching():
    texts = [r["text"] for r in sample_rows()[:40]]
    together = sign(texts).values
    alone = np.concatenate([sign([t]).values for t in texts])
    assert np.array_equal(together, alone)


def test_candidate_pairs_are_stars_rooted_at_the_first_document():
    keys = np.array([7, 7, 7, 9, 9, 5], dtype=np.uint64)
    docs = np.array([30, 10, 20, 40, 10, 50], dtype=np.int64)
    u, v = lsh.candidate_pairs(keys, docs)
    assert list(zip(u.tolist(), v.tolist())) == [(10, 20), (10, 30), (10, 40)]


def test_split_by_groups_in_order_and_yields_nothing_for_nothing():
    from corpusmill.dedup.work import split_by

    groups = np.array([3, 1, 3, 2], dtype=np.int64)
    out = [(g, a.tolist()) for g, (a,) in split_by(groups, np.array([10, 11, 12, 13]))]
    assert out == [(1, [11]), (2, [13]), (3, [10, 12])]
    assert list(split_by(np.empty(0, dtype=np.int64), np.empty(0))) == []


def test_ten_thousand_identical_pages_make_one_star_not_fifty_million_pairs():
    s = sign(["Cookie notice: this website uses cookies to improve your experience. Accept all."] * 10_000)
    keys = lsh.band_keys(s.values, CFG.band_count, CFG.row_count)
    docs = np.repeat(np.arange(10_000, dtype=np.int64), CFG.band_count)
    u, v = lsh.candidate_pairs(keys.reshape(-1), docs)
    assert len(u) == 9_999 and set(u.tolist()) == {0}


def run_components(u: np.ndarray, v: np.ndarray, rounds: int = 50) -> dict[int, int]:
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    nodes, labels = components.initial_labels(a, b)
    for _ in range(rounds):
        t, val = components.messages(a, b, nodes, labels)
        nodes2, labels2 = components.min_by_node(np.concatenate([nodes, t]), np.concatenate([labels, val]))
        if np.array_equal(labels2, labels):
            break
        nodes, labels = nodes2, labels2
    return dict(zip(nodes.tolist(), labels.tolist()))


def test_label_propagation_finds_components_of_a_chain_and_a_star():
    chain = np.arange(20, 40, dtype=np.int64)
    u = np.concatenate([chain[:-1], [5, 5, 5]])
    v = np.concatenate([chain[1:], [6, 7, 8]])
    labels = run_components(u, v)
    assert {labels[n] for n in range(20, 40)} == {20}
    assert {labels[n] for n in (5, 6, 7, 8)} == {5}


def test_keep_rule_prefers_edu_score_and_falls_back_to_first_when_scores_are_missing():
    assert choose_kept([(5, 1.0), (3, 2.0), (4, 2.0)], "edu_score") == (3, "edu_score")
    assert choose_kept([(5, 3.0), (3, 2.0)], "edu_score") == (5, "edu_score")
    assert choose_kept([(5, 3.0), (3, None)], "edu_score") == (3, "first_fallback")
    assert choose_kept([(5, 3.0), (3, 2.0)], "first") == (3, "first")


def test_default_recipes_select_kept_documents_when_a_dedup_sidecar_is_given():
    from corpusmill.mixers.recipe import DEDUP_WHERE, default_recipe

    recipe = default_recipe("qwen3")
    assert recipe.dedup == "when_present"
    with_sidecar, note = recipe.with_dedup(True)
    assert all(s.where.endswith(f"AND {DEDUP_WHERE}") for s in with_sidecar.stages)
    assert "WHERE dup_keep" in note
    without, note = recipe.with_dedup(False)
    assert without == recipe and "no --dedup" in note
    import dataclasses

    with pytest.raises(ConfigError):
        dataclasses.replace(recipe, dedup="required").with_dedup(False)
    with pytest.raises(ConfigError):
        dataclasses.replace(recipe, dedup="sometimes")


def test_cluster_summary_matches_the_keep_rule_in_any_merge_order():
    from corpusmill.dedup.keep import ClusterSummary

    rng = random.Random(3)
    for trial in range(200):
        members = [
            (rng.randrange(1000), None if rng.random() < 0.1 else float(rng.randrange(4)))
            for _ in range(rng.randint(1, 12))
        ]
        members = list({k: s for k, s in members}.items())  # unique keys
        for rule in ("edu_score", "first"):
            expected = choose_kept(members, rule)
            rng.shuffle(members)
            cut = rng.randint(0, len(members))
            parts = [ClusterSummary(), ClusterSummary()]
            for n, (k, s) in enumerate(members):
                parts[n >= cut].add(k, f"id{k}", s, k.to_bytes(4, "little"))
            merged = ClusterSummary().merge(parts[1]).merge(parts[0])
            key, sig, used = merged.kept(rule)
            assert (key, used) == expected and sig == key.to_bytes(4, "little"), trial
            assert merged.size == len(members) and merged.first[1] == f"id{min(k for k, _ in members)}"
