"""Default quality gates: junk is labeled by the `gates` annotator and kept out of every stage."""

import os
import random

import pyarrow as pa
import pytest

from corpusmill import storage
from corpusmill.annotators.gates import QualityGates
from corpusmill.mixers.gates import DEFAULT_GATES
from corpusmill.mixers.recipe import recipe_from_dict
from corpusmill.pipelines.mix import run_mix
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id
from tests.beam_runners import runner_kwargs
from tests.mix_corpus import ANNOTATION_SCHEMA, make_docs, with_gates
from tests.test_mix_job import read_stage

MIT = (
    "MIT License\n\nCopyright (c) 2024 Example Authors\n\nPermission is hereby granted, free of charge, to any "
    'person obtaining a copy of this software and associated documentation files (the "Software"), to deal in '
    "the Software without restriction, including without limitation the rights to use, copy, modify, merge."
)
JUNK = {
    "too_short": ("mem://short.txt", "x"),
    "bad_chars": ("mem://scan.pdf#page=3", "\ufffd" * 400 + " page 3 " + "\ufffd\ue001" * 200),
    "non_letters": (
        "mem://table.txt",
        "\n".join(" ".join(f"{i * j:>6}" for j in range(12)) + " | ## | -- |" for i in range(40)),
    ),
    "boilerplate_file": ("mem://repo/LICENSE", MIT),
    "readme": (
        "mem://repo/README.md",
        "# Project\n\nInstall with pip install project. Run the tests with pytest. "
        "Open an issue when something breaks; pull requests are welcome.",
    ),
    "error_page": (
        "mem://site/missing.html",
        "404 Not Found\n\nThe requested URL /docs/page.html was not found on "
        "this server. Apache/2.4.41 (Ubuntu) Server at example.org Port 80",
    ),
}
GOOD = {
    "french": "Le château près de la forêt était habité par un vieux pêcheur qui racontait des histoires d'été.",
    "chinese": "今天天气很好，我们一起去公园散步。孩子们在草地上玩耍，老人们在树下下棋。春天来了，花都开了。",
    "code": "def add(a, b):\n    return a + b\n\nfor i in range(10):\n    print(add(i, i * i))\n",
    "chinese_math": "题目：设 $f(x) = -4x - 5$，$g(x) = -5x^{2} + 18$。求 $f(g(-5))$。解答：先计算内层函数。",
    "book": "CHAPTER 1\n\nIt was a quiet morning in the village. " * 30 + "End of the Project Gutenberg License text.",
}


def label(texts: dict[str, tuple[str, str]]) -> dict[str, dict]:
    names = list(texts)
    table = pa.table({"id": names, "text": [texts[n][1] for n in names], "uri": [texts[n][0] for n in names]})
    return dict(zip(names, QualityGates().label(table).to_pylist()))


def flagged(row: dict) -> set[str]:
    """The default gates that hold for one labeled row (the SQL of DEFAULT_GATES, in Python)."""
    out = set()
    if row["gate_visible_chars"] < 20:
        out.add("too_short")
    if row["gate_bad_char_frac"] > 0.005:
        out.add("bad_chars")
    if row["gate_letter_frac"] < 0.25:
        out.add("non_letters")
    if row["gate_boilerplate_file"]:
        out.add("boilerplate_file")
    if row["gate_error_page"]:
        out.add("error_page")
    return out


def test_each_kind_of_junk_trips_its_gate_and_good_text_none():
    rows = label({**JUNK, **{k: (f"mem://{k}.txt", t) for k, t in GOOD.items()}})
    for kind in ("too_short", "bad_chars", "non_letters", "boilerplate_file", "error_page"):
        assert kind in flagged(rows[kind]), (kind, rows[kind])
    assert "boilerplate_file" in flagged(rows["readme"])
    for kind in ("french", "chinese", "book"):
        assert flagged(rows[kind]) == set(), (kind, rows[kind])
    assert flagged(rows["code"]) <= {"non_letters"}  # the default SQL exempts domain = 'code'
    assert rows["chinese_math"]["gate_letter_frac"] < 0.4  # why math is exempt too
    assert set(DEFAULT_GATES) == {"too_short", "bad_chars", "non_letters", "boilerplate_file", "error_page"}


def write_junk_corpus(root) -> tuple[str, str, dict[str, str]]:
    rng = random.Random(3)
    docs = make_docs(40, seed=5)
    for kind, (uri, text) in JUNK.items():
        docs.append(
            {
                "id": stable_id("junk", kind),
                "text": text,
                "source": "web",
                "uri": uri,
                "meta": meta_json({}),
                "_lang": "en",
                "_i": 1000 + len(docs),
            }
        )
    ann = []
    for d in docs:
        ann.append(
            {
                "id": d["id"],
                "lang": "en" if d["_lang"] == "code" else d["_lang"],
                "lang_score": 0.9,
                "script": "Latn",
                "edu_score": round(rng.uniform(2, 5), 2),
                "domain": "code" if d["_lang"] == "code" else "other",
                "domain_score": 0.8,
                "safety": "safe",
                "safety_score": 0.9,
                "n_chars": len(d["text"]),
            }
        )
    docs_dir, ann_dir = str(root / "docs"), str(root / "ann")
    clean = [{k: v for k, v in d.items() if not k.startswith("_")} for d in docs]
    storage.write_parquet(pa.Table.from_pylist(clean, schema=DOCUMENT_SCHEMA), f"{docs_dir}/part-00000.parquet")
    storage.write_parquet(
        with_gates(pa.Table.from_pylist(ann, schema=ANNOTATION_SCHEMA), docs), f"{ann_dir}/part-00000.parquet"
    )
    return docs_dir, ann_dir, {d["id"]: d["text"] for d in docs}


@pytest.fixture(scope="module")
def junk_corpus(tmp_path_factory):
    return write_junk_corpus(tmp_path_factory.mktemp("junk"))


def shard_ids(out: str, stage: str) -> set[str]:
    return {i for _, prov in read_stage(os.path.join(out, stage)) for i in prov.column("id").to_pylist()}


def test_default_recipe_keeps_every_kind_of_junk_out_of_the_shards(junk_corpus, tmp_path):
    docs, ann, texts = junk_corpus
    # A budget above what the corpus holds: every document that passes is used.
    recipe = recipe_from_dict({"extends": "s1"}).with_budget(200_000)
    result = run_mix(recipe, docs, ann, str(tmp_path / "o"), progress=False, **runner_kwargs("in_process"))
    written = shard_ids(str(tmp_path / "o"), "s1")
    junk_ids = {stable_id("junk", k) for k in JUNK}
    assert written and not written & junk_ids
    removed = {g: n for g, (n, _) in result.plans[0].funnel.removed.items()}
    assert all(removed[g] >= 1 for g in DEFAULT_GATES), removed
    text = result.describe()
    assert "removed too_short -1, bad_chars -1" in text and "boilerplate_file -2" in text


def test_a_gate_switched_off_lets_its_documents_through(junk_corpus, tmp_path):
    docs, ann, _ = junk_corpus
    recipe = recipe_from_dict({"extends": "s1", "gates": {"error_page": "off"}}).with_budget(200_000)
    result = run_mix(
        recipe, docs, ann, str(tmp_path / "o"), dry_run=True, progress=False, **runner_kwargs("in_process")
    )
    assert "error_page" not in result.plans[0].funnel.removed
    assert stable_id("junk", "error_page") in set(result.plans[0].instances.column("id").to_pylist())
    assert stable_id("junk", "too_short") not in set(result.plans[0].instances.column("id").to_pylist())


def test_gates_that_empty_a_bucket_say_so_in_one_line(junk_corpus, tmp_path):
    docs, ann, _ = junk_corpus
    recipe = recipe_from_dict(
        {
            "gates": "default",
            "stages": [
                {
                    "name": "s",
                    "seq_len": 4096,
                    "budget_tokens": 5000,
                    "buckets": [
                        {"name": "repo_files", "where": "uri LIKE 'mem://repo/%'", "share": 0.2},
                        {"name": "rest", "where": "TRUE", "share": 0.8},
                    ],
                }
            ],
        }
    )
    result = run_mix(
        recipe, docs, ann, str(tmp_path / "o"), dry_run=True, progress=False, **runner_kwargs("in_process")
    )
    lines = [ln for ln in result.describe().splitlines() if "bucket repo_files: the gates removed all" in ln]
    assert lines == ["  bucket repo_files: the gates removed all 2 of its units (boilerplate_file 2)"]
