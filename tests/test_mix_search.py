"""`corpusmill mix search`: a known answer, the same search.json on every runner, resume, bad input, --trainer-cmd."""

import importlib.util
import json
import os
import shutil
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from corpusmill.errors import ConfigError
from corpusmill.mixers.recipe import load_recipe
from corpusmill.mixers.search_space import space_from_dict
from corpusmill.pipelines.mix import run_mix
from corpusmill.pipelines.mix_search import run_search
from tests.beam_runners import runner_kwargs
from tests.search_corpus import LANGS, space_dict, write_corpus, write_target

# Checked without importing jax: its config reads the compilation-cache variables on import.
if not all(importlib.util.find_spec(m) for m in ("jax", "optax", "lightgbm")):
    pytest.skip("needs the search extra: pip install 'corpusmill[search]'", allow_module_level=True)

CACHE_ENV = {
    "JAX_COMPILATION_CACHE_DIR": "",
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}
TRAINER = f"{sys.executable} {os.path.join(os.path.dirname(__file__), 'search_trainer.py')} {{data}} {{target}} {{out}}"


@pytest.fixture(scope="module", autouse=True)
def xla_cache(tmp_path_factory):
    """One persistent XLA cache for this module's searches: each proxy shape compiles once, not once per process."""
    saved = {k: os.environ.get(k) for k in CACHE_ENV}
    os.environ.update({**CACHE_ENV, "JAX_COMPILATION_CACHE_DIR": str(tmp_path_factory.mktemp("xla"))})
    yield
    for k, v in saved.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("search_corpus")
    docs, ann = write_corpus(root)
    return docs, ann, write_target(root / "target.jsonl")


@pytest.fixture(scope="module")
def baseline(corpus, tmp_path_factory):
    docs, ann, target = corpus
    out = str(tmp_path_factory.mktemp("search") / "out")
    result = run_search(
        space_from_dict(space_dict(target)), docs, ann, out, progress=False, **runner_kwargs("in_process")
    )
    return out, result


def search(space: dict, docs: str, ann: str, out, trainer_cmd: str = TRAINER, **kw):
    """A search with the unigram test trainer (or a variant of it), in process."""
    return run_search(
        space_from_dict(space),
        docs,
        ann,
        str(out),
        trainer_cmd=trainer_cmd,
        progress=False,
        **runner_kwargs("in_process"),
        **kw,
    )


def ids_where(folder: str, condition: str) -> set[str]:
    import duckdb

    return {r[0] for r in duckdb.sql(f"SELECT id FROM read_parquet('{folder}/*.parquet') WHERE {condition}").fetchall()}


def proxy_ids(result, out) -> set[str]:
    """Every document id any proxy of the search trained on."""
    used: set[str] = set()
    for p in result.doc["proxies"]:
        used |= set(pq.read_table(os.path.join(out, "proxies", p["key"], "instances.parquet")).column("id").to_pylist())
    return used


def read(path):
    with open(path, "rb") as fh:
        return fh.read()


def test_known_answer_puts_the_weight_on_the_target_buckets(baseline):
    _, result = baseline
    doc = result.doc
    assert set(doc["buckets"]) == set(LANGS)
    ok = [p for p in doc["proxies"] if p["status"] == "ok"]
    assert len(ok) == 13 and not doc["failed"]  # 12 draws + the prior
    assert doc["fit"]["cv_spearman"][doc["fit"]["model"]] >= 0.8
    chosen = doc["chosen"]["weights"]
    assert chosen["ru"] + chosen["zh"] >= 0.7, chosen
    assert abs(sum(chosen.values()) - 1) < 1e-9
    # The chosen mixture is predicted to beat the prior (the natural token share, ~1/4 each).
    assert doc["chosen"]["predicted_loss"] < doc["chosen"]["prior_predicted_loss"]


def test_recipe_runs_unchanged_with_mix(baseline, corpus, tmp_path):
    out, result = baseline
    docs, ann, _ = corpus
    recipe = load_recipe(os.path.join(out, "recipe.yaml"))
    shares = {b.name: b.share for b in recipe.stages[0].buckets}
    assert shares == result.doc["chosen"]["weights"]
    mixed = run_mix(recipe, docs, ann, str(tmp_path / "shards"), progress=False, **runner_kwargs("in_process"))
    plan = mixed.plans[0]
    # Tiny buckets may land "coarse" (a document is large next to 1% of 8k tokens), never short.
    assert {b.status for b in plan.buckets} <= {"ok", "coarse"}
    assert os.path.exists(tmp_path / "shards" / "s1" / "manifest.json")
    tokens = {b.name: b.tokens for b in plan.buckets}
    assert (tokens["ru"] + tokens["zh"]) / sum(tokens.values()) >= 0.69


@pytest.mark.parametrize("runner", ["two_workers", "portable"])
def test_same_search_json_on_every_runner(baseline, corpus, tmp_path, runner):
    out, _ = baseline
    docs, ann, target = corpus
    theirs = str(tmp_path / "out")
    run_search(space_from_dict(space_dict(target)), docs, ann, theirs, progress=False, **runner_kwargs(runner))
    assert read(os.path.join(out, "search.json")) == read(os.path.join(theirs, "search.json"))
    assert read(os.path.join(out, "recipe.yaml")) == read(os.path.join(theirs, "recipe.yaml"))


def test_an_interrupted_search_resumes_with_only_the_missing_proxies(baseline, corpus, tmp_path):
    out, _ = baseline
    docs, ann, target = corpus
    copy = str(tmp_path / "copy")
    shutil.copytree(out, copy)
    dirs = sorted(os.listdir(os.path.join(copy, "proxies")))
    for d in dirs[:3]:
        os.remove(os.path.join(copy, "proxies", d, "result.json"))
    os.remove(os.path.join(copy, "search.json"))
    again = run_search(
        space_from_dict(space_dict(target)), docs, ann, copy, progress=False, **runner_kwargs("in_process")
    )
    assert (again.trained, again.cached) == (3, 10)
    assert read(os.path.join(out, "search.json")) == read(os.path.join(copy, "search.json"))


def test_trainer_cmd_contract(corpus, tmp_path):
    docs, ann, target = corpus
    out = str(tmp_path / "out")
    result = search(space_dict(target, proxies=6), docs, ann, out)
    chosen = result.doc["chosen"]["weights"]
    assert chosen["ru"] + chosen["zh"] >= 0.7, chosen  # a unigram model agrees on this corpus
    assert not os.path.exists(os.path.join(out, "proxies", result.doc["proxies"][0]["key"], "train.npy"))


def test_diverged_proxies_are_recorded_and_the_fit_goes_on(corpus, tmp_path):
    docs, ann, target = corpus
    result = search(space_dict(target, proxies=8), docs, ann, tmp_path / "o", trainer_cmd=TRAINER + " nan")
    proxies = result.doc["proxies"]
    diverged = [p for p in proxies if p["status"] == "diverged"]
    assert diverged and all(p["loss"] is None and p["tokens"] % 3 == 0 for p in diverged)
    assert all(p["tokens"] % 3 for p in proxies if p["status"] == "ok")
    assert result.doc["fit"]["proxies_used"] == len(proxies) - len(diverged)


@pytest.mark.parametrize(
    "mode,reason", [("fail", "trainer_failed"), ("silent", "trainer_wrote_no_loss"), ("hang", "trainer_timeout")]
)
def test_failing_trainer_is_dead_lettered_with_its_stderr(corpus, tmp_path, mode, reason):
    docs, ann, target = corpus
    result = search(
        space_dict(target, proxies=8), docs, ann, tmp_path / "o", trainer_cmd=f"{TRAINER} {mode}", trainer_timeout_s=4
    )
    failed = result.doc["failed"]
    assert failed and all(f["reason"] == reason for f in failed)
    if mode == "fail":
        assert all("out of memory (simulated)" in f["message"] for f in failed)
    assert result.failed == len(failed) and result.doc["fit"]["proxies_used"] == 9 - len(failed)


def bucket(name, where, **kw):
    return {"name": name, "where": where, "max_repeats": 4, **kw}


@pytest.mark.parametrize(
    "change,message",
    [
        ({"buckets": [bucket("en", "lang = 'en'"), bucket("xx", "lang = 'xx'")]}, "bucket xx: no document matches"),
        ({"buckets": [bucket("all", "TRUE"), bucket("en", "lang = 'en'")]}, "buckets all and en share 40 documents"),
        (
            {"buckets": [bucket("en", "lang = 'en'", max_repeats=1), bucket("de", "lang = 'de'", max_repeats=1)]},
            "cannot be met at the requested repetition",
        ),
        (
            {"buckets": [bucket("en", "lang = 'en'", min_share=0.9, max_repeats=1), bucket("de", "lang = 'de'")]},
            "bucket en: min_share 0.9 needs 7,200 tokens",
        ),
        ({"buckets": [bucket("en", "lang = 'en'"), bucket("de", "nope = 1")]}, "does not work on the corpus view"),
        ({"targets": [{"name": "t", "where": "lang = 'xx'"}]}, "target t: no document matches"),
        ({"targets": [{"name": "t", "where": "lang = 'de'"}]}, "bucket de: no document matches"),
    ],
)
def test_bad_spaces_fail_before_any_proxy_trains(corpus, tmp_path, change, message):
    docs, ann, target = corpus
    out = tmp_path / "o"
    with pytest.raises(ConfigError, match=message):
        search(space_dict(target, **change), docs, ann, out)
    assert not (out / "proxies").exists() or not any((out / "proxies").rglob("result.json"))


def test_first_match_allows_overlapping_buckets(corpus, tmp_path):
    docs, ann, target = corpus
    buckets = [bucket("ru_zh", "lang IN ('ru', 'zh')"), bucket("rest", "TRUE")]
    result = search(space_dict(target, buckets=buckets, first_match=True, proxies=6), docs, ann, tmp_path / "o")
    assert result.doc["chosen"]["weights"]["ru_zh"] >= 0.7


def test_a_target_that_overlaps_training_is_refused(corpus, tmp_path):
    docs, ann, _ = corpus
    text = pq.read_table(os.path.join(docs, "part-00000.parquet")).column("text")[0].as_py()
    target = tmp_path / "leak.jsonl"
    target.write_text(json.dumps({"text": text}) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="target ru_zh: 1 of its documents are also training candidates"):
        search(space_dict(str(target)), docs, ann, tmp_path / "o")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"proxies": 1}, "proxies must be an integer >= 2"),
        ({"prior": {"en": 1.0}}, "prior: give a share for exactly the buckets"),
        ({"targets": [{"name": "t", "jsonl": "a.jsonl", "where": "TRUE"}]}, "give exactly one of where, jsonl, docs"),
        ({"model": {"d_model": 30, "n_heads": 4}}, "d_model 30 must be a multiple of n_heads 4"),
        ({"stage": {"seq_len": 32}}, "proxy_tokens must be a positive integer"),
        ({"stage": {"seq_len": 32, "proxy_tokens": 100}}, "less than one training step"),
    ],
)
def test_space_errors_are_one_line(corpus, change, message):
    _, _, target = corpus
    with pytest.raises(ConfigError, match=message) as info:
        space_from_dict(space_dict(target, **change))
    assert "\n" not in str(info.value)


def test_cli_search_then_report(corpus, tmp_path, capsys):
    from corpusmill.commands import main

    docs, ann, target = corpus
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(space_dict(os.path.basename(target))), encoding="utf-8")
    shutil.copy(target, tmp_path / os.path.basename(target))  # target paths are relative to the space file
    out = str(tmp_path / "search")
    argv = [
        "mix",
        "search",
        str(space),
        "--docs",
        docs,
        "--annotations",
        ann,
        "-o",
        out,
        "--proxies",
        "6",
        "--trainer-cmd",
        TRAINER,
        "--workers",
        "1",
        "--quiet",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "proxies: 7 = 7 ok" in printed and "recipe.yaml" in printed
    page = str(tmp_path / "search.html")
    assert main(["report", "--search", out, "-o", page]) == 0
    html = open(page, encoding="utf-8").read()
    for key in ["search-chosen-vs-prior", "search-predicted-vs-observed", *(f"search-bucket-{n}" for n in LANGS)]:
        assert f'data-chart="{key}"' in html
    assert html.count('class="point"') == 7 + 4 * 7  # predicted-vs-observed + one scatter per bucket
    assert (
        main(["mix", "search", str(space), "--docs", docs, "--annotations", ann, "-o", out, "--trainer-cmd", "true"])
        == 2
    )
    assert "--trainer-cmd must contain {data}, {target}, {out}" in capsys.readouterr().err


def test_sql_target_is_held_out_of_every_proxy_and_of_the_recipe(corpus, tmp_path):
    docs, ann, _ = corpus
    held = "lang = 'zh' AND edu_score >= 2.5"
    space = space_dict("unused", targets=[{"name": "zh_hi", "where": held, "weight": 1.0}], proxies=6)
    out = tmp_path / "o"
    result = search(space, docs, ann, out)
    ids = ids_where(ann, held)
    assert ids
    used = proxy_ids(result, out)
    assert used and not used & ids
    recipe = load_recipe(str(out / "recipe.yaml"))
    assert held in recipe.stages[0].where and recipe.stages[0].where.startswith("(TRUE) AND NOT")
    assert result.doc["chosen"]["weights"]["zh"] >= 0.5  # the rest of zh is what looks like the target


def test_gates_keep_junk_out_of_every_proxy_and_go_into_the_recipe(corpus, tmp_path):
    docs, ann, target = corpus
    gate = "edu_score < 1.5"  # stands in for a junk signal: the test corpus has no `gates` columns
    out = tmp_path / "o"
    result = search(space_dict(target, gates={"low_edu": gate}, proxies=6), docs, ann, out)
    gated = ids_where(ann, gate)
    assert gated
    used = proxy_ids(result, out)
    assert used and not used & gated
    recipe = load_recipe(str(out / "recipe.yaml"))
    assert [(g.name, g.where) for g in recipe.gates] == [("low_edu", gate)]
    ungated = search(space_dict(target, proxies=6), docs, ann, tmp_path / "o2")
    # Another gate is another experiment: no proxy result is shared between the two.
    assert not {p["key"] for p in ungated.doc["proxies"]} & {p["key"] for p in result.doc["proxies"]}


@pytest.mark.parametrize(
    "gates,message",
    [
        ("default", "gate too_short.*gate_visible_chars"),  # the default gates need the `gates` annotator
        ({"no_de": "lang = 'de'"}, "bucket de: no document matches .*after the quality gates"),
    ],
)
def test_gates_that_cannot_work_fail_before_any_proxy_trains(corpus, tmp_path, gates, message):
    docs, ann, target = corpus
    out = tmp_path / "o"
    with pytest.raises(ConfigError, match=message):
        search(space_dict(target, gates=gates), docs, ann, out)
    assert not (out / "proxies").exists() or not any((out / "proxies").rglob("result.json"))


def test_near_duplicates_removed_by_dedup_stay_out_of_the_proxies(tmp_path):
    """Edited copies of five documents: `corpusmill dedup` keeps one per cluster, the proxies
    never see the others, and the recipe asks `mix` for the same (`dedup: when_present`)."""
    from corpusmill.pipelines.dedup import run_dedup
    from corpusmill.schema import DOCUMENT_SCHEMA

    docs, ann = write_corpus(tmp_path)
    target = write_target(tmp_path / "target.jsonl")
    originals = pq.read_table(os.path.join(docs, "part-00000.parquet")).to_pylist()[:5]
    copies = [
        {**d, "id": d["id"] + "-copy", "uri": d["uri"] + "/copy", "text": d["text"] + " river."} for d in originals
    ]
    pq.write_table(pa.Table.from_pylist(copies, schema=DOCUMENT_SCHEMA), os.path.join(docs, "part-00001.parquet"))
    labels = pq.read_table(os.path.join(ann, "part-00000.parquet"))
    extra = [{**r, "id": r["id"] + "-copy"} for r in labels.to_pylist()[:5]]
    pq.write_table(pa.Table.from_pylist(extra, schema=labels.schema), os.path.join(ann, "part-00001.parquet"))
    dup = str(tmp_path / "dup")
    summary = run_dedup(docs, dup, progress=False, **runner_kwargs("in_process"))
    dropped = ids_where(dup, "NOT dup_keep")
    assert len(dropped) == 5, summary
    with pytest.raises(ConfigError, match="requires near-duplicate clusters"):
        space_from_dict(space_dict(target, dedup="required")).with_dedup_sidecar(False)
    out = tmp_path / "o"
    result = search(space_dict(target, proxies=6), docs, ann, out, dedup=dup)
    used = proxy_ids(result, out)
    assert used and not used & dropped
    recipe = load_recipe(str(out / "recipe.yaml"))
    assert recipe.dedup == "when_present" and "dup_keep" not in recipe.stages[0].where


def test_a_folder_of_text_files_is_a_target(corpus, tmp_path):
    docs, ann, target = corpus
    folder = tmp_path / "texts"
    folder.mkdir()
    for i, line in enumerate(open(target, encoding="utf-8")):
        (folder / f"{i}.txt").write_text(json.loads(line)["text"], encoding="utf-8")
    space = space_dict(target, targets=[{"name": "files", "docs": str(folder)}], proxies=6)
    result = search(space, docs, ann, tmp_path / "o")
    chosen = result.doc["chosen"]["weights"]
    assert chosen["ru"] + chosen["zh"] >= 0.7


def test_projection_and_rank_correlation():
    from corpusmill.mixers.search_fit import draw_mixtures, project, spearman

    lo, hi = np.array([0.1, 0.0, 0.0]), np.array([0.5, 0.5, 0.5])
    x = project(np.array([[0.9, 0.05, 0.05], [0.0, 0.0, 1.0]]), lo, hi)
    assert np.allclose(x.sum(axis=1), 1) and (x >= lo - 1e-12).all() and (x <= hi + 1e-12).all()
    assert np.allclose(x[0], [0.5, 0.25, 0.25])
    a = draw_mixtures(np.array([0.2, 0.3, 0.5]), 5, seed=1, concentration=1.0, lo=lo, hi=hi)
    assert (a == draw_mixtures(np.array([0.2, 0.3, 0.5]), 5, seed=1, concentration=1.0, lo=lo, hi=hi)).all()
    assert spearman(np.array([1, 2, 3, 4]), np.array([10, 20, 30, 40])) == 1.0
    assert spearman(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1])) == -1.0
    assert abs(spearman(np.array([1, 1, 2, 3]), np.array([1, 2, 3, 4])) - 0.9486833) < 1e-6  # ties share ranks
