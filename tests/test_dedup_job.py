"""The dedup job end to end on real (generated) corpora, on the three runners."""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pytest

from corpusmill import minhash, storage
from corpusmill.corpus import open_corpus
from corpusmill.dedup.config import DedupConfig
from corpusmill.pipelines.dedup import run_dedup
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id
from tests.beam_runners import RUNNERS, runner_kwargs
from tests.dedup_corpus import sample_rows, with_copies


def write_documents(rows: list[dict], docs_dir: Path, files: int = 2) -> list[str]:
    """Rows as DOCS_DIR part files (the ingest layout); returns the ids in corpus order."""
    ids = [stable_id("dedup-test", str(i)) for i in range(len(rows))]
    per = -(-len(rows) // files)
    for f in range(files):
        chunk = list(range(f * per, min(len(rows), (f + 1) * per)))
        table = pa.table(
            {
                "id": [ids[i] for i in chunk],
                "text": [rows[i]["text"] for i in chunk],
                "source": [rows[i].get("source", "test") for i in chunk],
                "uri": [f"test://{i}" for i in chunk],
                "meta": [meta_json({k: v for k, v in rows[i].items() if k not in ("text", "source")}) for i in chunk],
            },
            schema=DOCUMENT_SCHEMA,
        )
        storage.write_parquet(table, str(docs_dir / f"part-{f:05d}.parquet"))
    return ids


def sidecar(dup_dir: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(dup_dir.glob("part-*.parquet")):
        for r in storage.read_parquet(str(path)).to_pylist():
            rows[r["id"]] = r
    return rows


@pytest.fixture(scope="module")
def near_dup_corpus(tmp_path_factory):
    rows = with_copies(sample_rows(), max_copies=3, seed=11)
    docs = tmp_path_factory.mktemp("docs")
    ids = write_documents(rows, docs, files=3)
    return rows, ids, docs


@pytest.fixture(scope="module")
def reference(near_dup_corpus, tmp_path_factory):
    _, _, docs = near_dup_corpus
    out = tmp_path_factory.mktemp("dup") / "in_process"
    summary = run_dedup(str(docs), str(out), progress=False, **runner_kwargs("in_process"))
    return out, summary


def test_quality_on_known_near_duplicates(near_dup_corpus, reference):
    rows, ids, _ = near_dup_corpus
    out, summary = reference
    labels = sidecar(out)
    assert len(labels) == len(rows) == summary["records_in"]
    cluster = [labels[i]["dup_cluster"] for i in ids]
    # Recall: pairs of documents whose true shingle Jaccard is >= 0.8 share a cluster.
    shingles = [set(minhash.shingles(r["text"], 5).tolist()) for r in rows]
    by_origin = defaultdict(list)
    for n, r in enumerate(rows):
        by_origin[r["origin"]].append(n)
    similar = found = 0
    for members in by_origin.values():
        for i, j in itertools.combinations(members, 2):
            if shingles[i] and shingles[j] and len(shingles[i] & shingles[j]) / len(shingles[i] | shingles[j]) >= 0.8:
                similar += 1
                found += cluster[i] == cluster[j]
    assert similar > 200
    assert found / similar >= 0.95, (found, similar)
    # Precision: clustered pairs that come from the same seed.
    by_cluster = defaultdict(list)
    for n, c in enumerate(cluster):
        by_cluster[c].append(n)
    predicted = same = 0
    for members in by_cluster.values():
        for i, j in itertools.combinations(members, 2):
            predicted += 1
            same += rows[i]["origin"] == rows[j]["origin"]
    assert predicted > 200
    assert same / predicted >= 0.99, (same, predicted)
    # One kept document per cluster, sizes agree, the kept one estimates 1.0 against itself.
    for members in by_cluster.values():
        kept = [n for n in members if labels[ids[n]]["dup_keep"]]
        assert len(kept) == 1
        assert all(labels[ids[n]]["dup_cluster_size"] == len(members) for n in members)
        assert labels[ids[kept[0]]]["dup_jaccard_est"] == 1.0
    assert summary["duplicates"] == len(rows) - len(by_cluster)
    assert "16 bands x 7 rows" in summary["s_curve"]


@pytest.mark.parametrize("runner", [r for r in RUNNERS if r != "in_process"])
def test_same_result_on_every_runner(near_dup_corpus, reference, runner, tmp_path):
    _, _, docs = near_dup_corpus
    out = tmp_path / runner
    run_dedup(str(docs), str(out), progress=False, **runner_kwargs(runner))
    ref, _ = reference
    for path in sorted(ref.glob("part-*.parquet")):
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name


def test_rerun_is_skipped_and_folder_is_clean(near_dup_corpus, reference):
    _, _, docs = near_dup_corpus
    out, _ = reference
    again = run_dedup(str(docs), str(out), progress=False, workers=1)
    assert again["skipped"]
    assert not (out / "_work").exists()


def test_ten_thousand_boilerplate_pages_and_short_documents(tmp_path):
    page = "Cookie notice. This website uses cookies to give you the best experience. Accept all cookies or manage."
    other = [r["text"] for r in sample_rows()[:50]]
    rows = [{"text": page, "source": "web"} for _ in range(10_000)] + [{"text": t, "source": "sib"} for t in other]
    rows += [{"text": "", "source": "web"}, {"text": "too short", "source": "web"}]
    case = "The river rises in the mountains and flows two thousand kilometres to the sea."
    rows += [
        {"text": case, "source": "a"},
        {"text": "  THE river rises in the\n\nmountains AND flows two thousand kilometres to the SEA!", "source": "b"},
    ]
    rows += [{"text": "buy now " * 300, "source": "spam"}, {"text": "buy now " * 4, "source": "spam"}]
    ids = write_documents(rows, tmp_path / "docs", files=2)
    summary = run_dedup(str(tmp_path / "docs"), str(tmp_path / "dup"), progress=False, workers=1)
    labels = sidecar(tmp_path / "dup")
    boiler = [labels[i] for i in ids[:10_000]]
    assert {b["dup_cluster"] for b in boiler} == {ids[0]}
    assert sum(b["dup_keep"] for b in boiler) == 1 and boiler[0]["dup_keep"]  # no scores: the first
    assert {b["dup_cluster_size"] for b in boiler} == {10_000}
    for i in ids[-6:-4]:
        assert labels[i]["dup_rule"] == "no_signature" and labels[i]["dup_keep"] and labels[i]["dup_cluster_size"] == 1
    # Whitespace and case only: one cluster, estimate 1.0. One repeated shingle: a signature of
    # its own, equal for any length of repetition.
    for pair in (ids[-4:-2], ids[-2:]):
        assert {labels[i]["dup_cluster"] for i in pair} == {pair[0]}
        assert [labels[i]["dup_keep"] for i in pair] == [True, False] and labels[pair[1]]["dup_jaccard_est"] == 1.0
    assert summary["no_signature"] == 2 and summary["duplicates"] == 9_999 + 2


def test_keep_rule_uses_edu_score_and_falls_back_when_annotations_miss_ids(tmp_path):
    base = [r["text"] for r in sample_rows() if r["source"] == "sib200"][:3]
    rows = [{"text": t, "source": "s"} for t in base for _ in range(3)]  # three clusters of three
    ids = write_documents(rows, tmp_path / "docs", files=1)
    # Scores for every document of clusters 0 and 1; cluster 2 lacks one id.
    scores = {ids[n]: float(n % 3) for n in range(9) if n != 8}
    ann = tmp_path / "ann"
    storage.write_parquet(
        pa.table({"id": list(scores), "edu_score": pa.array(list(scores.values()), pa.float32())}),
        str(ann / "part-00000.parquet"),
    )
    summary = run_dedup(str(tmp_path / "docs"), str(tmp_path / "dup"), annotations=str(ann), progress=False, workers=1)
    labels = [sidecar(tmp_path / "dup")[i] for i in ids]
    assert [r["dup_keep"] for r in labels] == [False, False, True, False, False, True, True, False, False]
    assert [r["dup_rule"] for r in labels] == ["edu_score"] * 6 + ["first_fallback"] * 3
    assert summary["keep_fallback_docs"] == 3
    first = run_dedup(
        str(tmp_path / "docs"),
        str(tmp_path / "dup_first"),
        config=DedupConfig(keep="first"),
        annotations=str(ann),
        progress=False,
        workers=1,
    )
    assert first["duplicates"] == 6
    # The query side: the sidecar joins into `corpus`, so a recipe can say WHERE dup_keep.
    with open_corpus(str(tmp_path / "docs"), str(ann), dedup=str(tmp_path / "dup")) as corpus:
        kept = corpus.sql("SELECT id FROM corpus WHERE dup_keep ORDER BY id").fetchall()
        assert sorted(r[0] for r in kept) == sorted(ids[n] for n in (2, 5, 6))
        assert "dedup" in corpus.views
    assert json.loads((tmp_path / "dup" / "_summary.json").read_text())["keep_fallback_docs"] == 3


def test_report_shows_duplicate_rates_sizes_and_examples(near_dup_corpus, reference, tmp_path):
    from corpusmill.report import build_report

    _, _, docs = near_dup_corpus
    out, summary = reference
    result = build_report(str(docs), str(tmp_path / "report.html"), dedup=str(out))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "dedup" in result.sections and "dedup_cluster_sizes" in result.charts
    assert f"{summary['duplicates']:,}" in page
    for key in ("dedup_by_source", "dedup_by_lang", "dedup_examples"):
        assert f'data-table="{key}"' in page
    assert "sib200-mirror" in page and "zho_Hans" in page  # per source and per language (from meta)


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_long_chain_of_near_duplicates_needs_more_passes_and_ends_in_one_cluster(tmp_path, runner):
    # Each document is a window of one long word sequence, shifted by 10 words: neighbours are
    # near-duplicates, far ends share nothing, so labels need many rounds to travel the chain.
    rng = random.Random(5)
    words = [f"w{rng.randrange(10**9)}" for _ in range(2_000)]
    rows = [{"text": " ".join(words[10 * i : 10 * i + 200]), "source": "chain"} for i in range(60)]
    rows.append({"text": " ".join(f"v{rng.randrange(10**9)}" for _ in range(200)), "source": "other"})
    ids = write_documents(rows, tmp_path / "docs", files=2)
    summary = run_dedup(str(tmp_path / "docs"), str(tmp_path / "dup"), progress=False, **runner_kwargs(runner))
    labels = sidecar(tmp_path / "dup")
    assert summary["passes"] > 1
    assert {labels[i]["dup_cluster"] for i in ids[:60]} == {ids[0]}
    assert {labels[i]["dup_cluster_size"] for i in ids[:60]} == {60}
    assert labels[ids[60]]["dup_rule"] == "unique" and labels[ids[60]]["dup_cluster_size"] == 1


def test_cli_prints_the_s_curve_and_the_counts(tmp_path, capsys):
    from corpusmill.commands import main

    rows = [{"text": t, "source": "s"} for t in [r["text"] for r in sample_rows()[:20]] * 2]
    write_documents(rows, tmp_path / "docs", files=1)
    code = main(
        [
            "dedup",
            str(tmp_path / "docs"),
            "-o",
            str(tmp_path / "dup"),
            "--bands",
            "14",
            "--rows",
            "8",
            "--workers",
            "1",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "LSH 14 bands x 8 rows (112 hashes, 5-grams)" in out and "P(cand.)" in out
    assert "duplicates=20" in out and "clusters=20" in out
    code = main(
        [
            "query",
            "SELECT count(*) AS n FROM corpus WHERE dup_keep",
            "--docs",
            str(tmp_path / "docs"),
            "--dedup",
            str(tmp_path / "dup"),
            "--format",
            "csv",
        ]
    )
    assert code == 0 and capsys.readouterr().out.splitlines()[1] == "20"


def test_mix_selects_only_kept_documents_and_says_so(tmp_path):
    from corpusmill.mixers.recipe import default_recipe
    from corpusmill.pipelines.mix import run_mix
    from tests.mix_corpus import write_corpus

    docs, ann, _ = write_corpus(tmp_path, 120, max_sentences=8)  # few sentences: many near-copies
    run_dedup(docs, str(tmp_path / "dup"), annotations=ann, progress=False, workers=1)
    kept = {i for i, r in sidecar(tmp_path / "dup").items() if r["dup_keep"]}
    assert 0 < len(kept) < 120
    recipe = default_recipe("s1").with_budget(20_000)
    with_dedup = run_mix(
        recipe, docs, ann, str(tmp_path / "a"), dry_run=True, progress=False, workers=1, dedup=str(tmp_path / "dup")
    )
    used = {i for p in with_dedup.plans for i in p.instances.column("id").to_pylist()}
    assert used and used <= kept
    assert with_dedup.describe().splitlines()[0] == "near-duplicates: one document per cluster (WHERE dup_keep)"
    without = run_mix(recipe, docs, ann, str(tmp_path / "b"), dry_run=True, progress=False, workers=1)
    assert "not removed" in without.describe().splitlines()[0]
    assert {i for p in without.plans for i in p.instances.column("id").to_pylist()} - kept


def test_a_corpus_without_near_duplicates_keeps_everything(tmp_path):
    rng = random.Random(9)
    rows = [{"text": " ".join(f"t{rng.randrange(10**9)}" for _ in range(60)), "source": "s"} for _ in range(300)]
    ids = write_documents(rows, tmp_path / "docs", files=2)
    summary = run_dedup(str(tmp_path / "docs"), str(tmp_path / "dup"), progress=False, workers=1)
    labels = sidecar(tmp_path / "dup")
    assert summary["duplicates"] == 0 and summary["pairs"] == 0
    assert all(labels[i]["dup_rule"] == "unique" and labels[i]["dup_keep"] for i in ids)


def test_without_the_jaccard_check_clusters_only_grow(near_dup_corpus, reference, tmp_path):
    _, ids, docs = near_dup_corpus
    ref_dir, ref = reference
    summary = run_dedup(str(docs), str(tmp_path / "dup"), config=DedupConfig(verify=False), progress=False, workers=1)
    assert summary["pairs"] > ref["pairs"]  # LSH's chance candidates are now edges too
    checked, unchecked = sidecar(ref_dir), sidecar(tmp_path / "dup")
    members = defaultdict(set)
    for i in ids:
        members[checked[i]["dup_cluster"]].add(unchecked[i]["dup_cluster"])
    assert all(len(m) == 1 for m in members.values())  # every checked cluster lies inside one unchecked
