import dataclasses
import os
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest

from corpusmill.errors import ConfigError, OutputExistsError
from corpusmill.mixers.manifest import verify_stage
from corpusmill.mixers.megatron import read_indexed_dataset
from corpusmill.mixers.recipe import default_recipe, recipe_from_dict
from corpusmill.mixers.tokenizer import QwenTokenizer
from corpusmill.pipelines.mix import run_mix
from tests.beam_runners import runner_kwargs
from tests.mix_corpus import write_corpus
from tests.qwen_hf import build_qwen_tokenizer_json

EOS = 151643
RECIPE = {
    "stages": [
        {
            "name": "general",
            "seq_len": 512,
            "budget_tokens": 9000,
            "seed": 7,
            "shard_tokens": 3000,
            "where": "safety = 'safe'",
            "buckets": [
                {"name": "hi", "where": "edu_score >= 3", "share": 0.5, "max_repeats": 2},
                {"name": "rest", "where": "TRUE", "share": 0.5, "weight": "edu_score", "max_repeats": 2},
            ],
        },
        {
            "name": "long",
            "seq_len": 256,
            "budget_tokens": 6000,
            "seed": 9,
            "shard_tokens": 1024,
            "packing": "pack",
            "long_documents": "split",
            "buckets": [
                {"name": "long", "where": "n_tokens >= 200", "share": 0.75, "max_repeats": 2},
                {"name": "short", "where": "n_tokens < 200", "share": 0.25, "max_repeats": 2},
            ],
        },
    ]
}


def files_of(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root)] = fh.read()
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return write_corpus(root, 80, unannotated=3)


@pytest.fixture(scope="module")
def baseline(corpus, tmp_path_factory):
    docs, ann, texts = corpus
    out = str(tmp_path_factory.mktemp("mix") / "shards")
    result = run_mix(recipe_from_dict(RECIPE), docs, ann, out, progress=False, **runner_kwargs("in_process"))
    return out, result, texts


@pytest.mark.parametrize("runner", ["two_workers", "portable"])
def test_same_bytes_on_every_runner(baseline, corpus, tmp_path, runner):
    out, _, _ = baseline
    docs, ann, _ = corpus
    run_mix(recipe_from_dict(RECIPE), docs, ann, str(tmp_path / "o"), progress=False, **runner_kwargs(runner))
    ours, theirs = files_of(out), files_of(tmp_path / "o")
    assert sorted(ours) == sorted(theirs) and any(k.endswith(".bin") for k in ours)
    assert [k for k in ours if ours[k] != theirs[k]] == []


def read_stage(stage_dir):
    shards = sorted(int(n[6:11]) for n in os.listdir(stage_dir) if n.endswith(".bin"))
    for s in shards:
        stem = os.path.join(stage_dir, f"shard-{s:05d}")
        with open(stem + ".idx", "rb") as fi, open(stem + ".bin", "rb") as fb:
            yield read_indexed_dataset(fi.read(), fb.read()), pq.read_table(stem + ".provenance.parquet")


def test_stream_shards_decode_to_the_original_texts(baseline):
    out, result, texts = baseline
    tok = QwenTokenizer()
    n = 0
    for ds, prov in read_stage(os.path.join(out, "general")):
        assert ds.dtype == np.int32 and ds.doc_indices.tolist() == list(range(len(ds) + 1))
        for row, seq in zip(prov.to_pylist(), ds.sequences()):
            assert seq[-1] == EOS and EOS not in seq[:-1]
            assert tok.decode(seq[:-1]) == texts[row["id"]]
            n += 1
    assert n == result.plans[0].instances.num_rows > 0


def test_packed_shards_hold_windows_of_long_documents(baseline):
    out, result, texts = baseline
    tok = QwenTokenizer()
    padding, windowed = 0, set()
    for ds, prov in read_stage(os.path.join(out, "long")):
        assert set(ds.lengths.tolist()) == {256}
        covered = np.zeros(len(ds.tokens), bool)
        for row in prov.to_pylist():
            piece = ds.sequence(row["seq"])[row["offset"] : row["offset"] + row["length"]]
            covered[row["seq"] * 256 + row["offset"] : row["seq"] * 256 + row["offset"] + row["length"]] = True
            doc = np.array(tok.encode_batch([texts[row["id"]]])[0] + [EOS])
            # Every placed slice is the window's tokens; only the document's last window ends with EOS.
            assert piece.tolist() == doc[row["start"] : row["start"] + row["length"]].tolist()
            assert row["length"] <= 256 and (piece[-1] == EOS) == (row["start"] + row["length"] == len(doc))
            if row["part"] > 0:
                windowed.add(row["id"])
        assert np.all(ds.tokens[~covered] == EOS)  # the rest of each sequence is padding
        padding += int((~covered).sum())
    assert windowed, "the corpus should have a document longer than 256 tokens"
    assert padding == result.plans[1].layout.padding_tokens
    assert result.plans[1].split_summary()["documents"] >= len(windowed)


def test_manifest_and_verify(baseline):
    import json

    out, result, _ = baseline
    for plan in result.plans:
        stage_dir = os.path.join(out, plan.stage.name)
        assert verify_stage(stage_dir) == []
        m = json.load(open(os.path.join(stage_dir, "manifest.json")))
        assert m["tokenizer"]["name"] == "qwen2-bbpe" and m["dtype_code"] == 4 and m["seed"] == plan.stage.seed
        assert sum(v["tokens"] for v in m["by_bucket"].values()) == m["totals"]["tokens"]
        assert sum(v["tokens"] for v in m["by_lang"].values()) == m["totals"]["tokens"]
        assert set(m["by_source"]) <= {"web", "synth_math"} and m["missing_annotations"] == 3
        assert sum(s["tokens"] for s in m["shards"]) == m["totals"]["tokens"] + m["totals"]["padding_tokens"]
        assert m["totals"]["shards"] == plan.layout.n_shards > 1


def test_documents_without_annotations_are_dead_lettered(baseline, corpus):
    out, _, _ = baseline
    docs, ann, texts = corpus
    dead = pq.read_table(os.path.join(out, "general", "_dead_letters", "mix-00000.parquet")).to_pylist()
    missing = [d["id"] for d in dead if d["reason"] == "missing_annotations"]
    assert len(missing) == 3 and set(missing) <= set(texts)
    used = set()
    for _, prov in read_stage(os.path.join(out, "general")):
        used |= set(prov.column("id").to_pylist())
    assert not used & set(missing)
    strict = dataclasses.replace(recipe_from_dict(RECIPE), missing_annotations="fail")
    with pytest.raises(ConfigError, match="3 documents have no annotations"):
        run_mix(strict, docs, ann, str(os.path.join(out, "..", "strict")), dry_run=True, progress=False)


def test_over_long_documents_skipped_when_the_recipe_says_so(corpus, tmp_path):
    docs, ann, _ = corpus
    raw = {"stages": [dict(RECIPE["stages"][1], long_documents="skip")]}
    result = run_mix(recipe_from_dict(raw), docs, ann, str(tmp_path / "o"), progress=False, workers=1)
    skipped = result.plans[0].layout.skipped
    assert skipped.num_rows > 0
    dead = pq.read_table(tmp_path / "o" / "long" / "_dead_letters" / "mix-00000.parquet").to_pylist()
    too_long = {d["id"] for d in dead if d["reason"] == "longer_than_seq_len"}
    assert too_long == set(skipped.column("id").to_pylist())
    for _, prov in read_stage(tmp_path / "o" / "long"):
        assert not too_long & set(prov.column("id").to_pylist())
        assert set(prov.column("part").to_pylist()) == {0}


def test_interrupted_run_keeps_finished_shards_and_ends_identical(baseline, corpus, tmp_path):
    out, _, _ = baseline
    docs, ann, _ = corpus
    again = tmp_path / "again"
    shutil.copytree(out, again)
    stage_dir = again / "general"
    for name in ("shard-00001.bin", "shard-00001.idx", "shard-00001.provenance.parquet", "manifest.json"):
        os.remove(stage_dir / name)
    os.remove(again / "long" / "shard-00000.provenance.parquet")  # died before its last file
    os.remove(again / "long" / "manifest.json")
    (stage_dir / ".tmp-dead-shard-00002.bin").write_bytes(b"half written")
    kept = os.stat(stage_dir / "shard-00000.bin").st_mtime_ns
    run_mix(recipe_from_dict(RECIPE), docs, ann, str(again), progress=False, workers=1)
    assert os.stat(stage_dir / "shard-00000.bin").st_mtime_ns == kept
    assert not (stage_dir / ".tmp-dead-shard-00002.bin").exists()  # the killed run's half file is removed
    assert files_of(again) == files_of(out)


def test_other_plan_in_the_same_folder_is_refused(baseline, corpus, tmp_path):
    out, _, _ = baseline
    docs, ann, _ = corpus
    other = {"stages": [dict(RECIPE["stages"][0], seed=8)]}
    with pytest.raises(OutputExistsError, match="different plan"):
        run_mix(recipe_from_dict(other), docs, ann, out, progress=False, workers=1)
    result = run_mix(recipe_from_dict(RECIPE), docs, ann, out, progress=False, workers=1)
    assert result.stages_skipped == ["general", "long"]
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    run_mix(recipe_from_dict(other), docs, ann, str(copy), progress=False, workers=1, overwrite=True)
    assert verify_stage(str(copy / "general")) == []
    assert files_of(copy / "general") != files_of(os.path.join(out, "general"))


def test_user_tokenizer_json_gives_the_same_token_bytes(baseline, corpus, tmp_path):
    out, _, _ = baseline
    docs, ann, _ = corpus
    tokenizer_json = build_qwen_tokenizer_json(str(tmp_path / "tokenizer.json"))
    raw = {**RECIPE, "tokenizer": tokenizer_json}
    run_mix(recipe_from_dict(raw), docs, ann, str(tmp_path / "o"), progress=False, workers=1)
    for stage in ("general", "long"):
        ours, theirs = files_of(os.path.join(out, stage)), files_of(tmp_path / "o" / stage)
        assert [k for k in ours if k.endswith((".bin", ".idx")) and ours[k] != theirs[k]] == []


def test_unmet_budgets_and_empty_buckets_are_reported_before_writing(corpus, tmp_path):
    docs, ann, _ = corpus
    raw = {
        "stages": [
            {
                "name": "big",
                "seq_len": 512,
                "budget_tokens": 10_000_000,
                "seed": 1,
                "buckets": [
                    {"name": "klingon", "where": "lang = 'tlh'", "share": 0.2},
                    {"name": "all", "where": "TRUE", "share": 0.8, "max_repeats": 3},
                ],
            }
        ]
    }
    result = run_mix(recipe_from_dict(raw), docs, ann, str(tmp_path / "o"), dry_run=True, progress=False, workers=1)
    by_name = {b.name: b for b in result.plans[0].buckets}
    assert by_name["klingon"].status == "empty" and by_name["all"].status == "short"
    assert by_name["all"].tokens == 3 * by_name["all"].available_tokens
    text = result.describe()
    assert "no document matches" in text and "max_repeats 3" in text and "short by" in text
    assert not os.path.exists(tmp_path / "o" / "big")
    strict = dataclasses.replace(recipe_from_dict(raw), strict=True)
    with pytest.raises(ConfigError, match="before tokenizing:\n  stage big bucket klingon: no document matches"):
        run_mix(strict, docs, ann, str(tmp_path / "o2"), progress=False, workers=1)
    assert not os.path.exists(tmp_path / "o2")  # nothing tokenized, nothing written
    raw["stages"][0]["buckets"][0] = {"name": "en", "where": "lang = 'en'", "share": 0.2}
    with pytest.raises(ConfigError, match="CANNOT MEET"):
        run_mix(
            dataclasses.replace(recipe_from_dict(raw), strict=True),
            docs,
            ann,
            str(tmp_path / "o"),
            progress=False,
            workers=1,
        )
    assert not os.path.exists(tmp_path / "o" / "big")


def test_bad_sql_fails_before_tokenizing(corpus, tmp_path):
    docs, ann, _ = corpus
    raw = {"stages": [dict(RECIPE["stages"][0], where="toxicity < 0.5")]}
    with pytest.raises(ConfigError, match="toxicity"):
        run_mix(recipe_from_dict(raw), docs, ann, str(tmp_path / "o"), progress=False, workers=1)
    assert not os.path.exists(tmp_path / "o")


def test_default_recipes_plan_on_a_small_corpus(corpus, tmp_path):
    docs, ann, _ = corpus
    result = run_mix(
        default_recipe("qwen3").with_budget(20_000),
        docs,
        ann,
        str(tmp_path / "o"),
        dry_run=True,
        progress=False,
        workers=1,
    )
    assert [p.stage.name for p in result.plans] == ["s1", "s2", "s3"]
    s3 = {b.name: b.status for b in result.plans[2].buckets}
    assert s3 == {"long": "empty", "medium": "empty"}  # no 4k+ token documents in this corpus
    assert result.plans[0].instances.num_rows > 0


def test_plan_follows_content_not_file_times(baseline, corpus, tmp_path):
    out, result, _ = baseline
    docs, ann, _ = corpus
    copy = tmp_path / "docs"
    shutil.copytree(docs, copy)  # new files, new modification times, same bytes
    again = run_mix(
        recipe_from_dict(RECIPE), str(copy), ann, str(tmp_path / "o"), dry_run=True, progress=False, workers=1
    )
    assert [p.fingerprint for p in again.plans] == [p.fingerprint for p in result.plans]
    table = pq.read_table(copy / "part-00001.parquet")
    pq.write_table(table.slice(1), copy / "part-00001.parquet")  # one document fewer
    changed = run_mix(
        recipe_from_dict(RECIPE), str(copy), ann, str(tmp_path / "o"), dry_run=True, progress=False, workers=1
    )
    assert changed.plans[0].fingerprint != result.plans[0].fingerprint


def test_remote_output_through_fsspec(baseline, corpus):
    import uuid

    import fsspec

    out, _, _ = baseline
    docs, ann, _ = corpus
    remote = f"memory://mix-{uuid.uuid4().hex}"
    fs = fsspec.filesystem("memory")
    try:
        run_mix(recipe_from_dict(RECIPE), docs, ann, remote, progress=False, workers=1)
        for stage in ("general", "long"):
            assert verify_stage(f"{remote}/{stage}") == []
            local = files_of(os.path.join(out, stage))
            for name in (n for n in local if n.startswith("shard-")):
                assert fs.cat(f"{remote}/{stage}/{name}") == local[name], name
    finally:
        fs.rm(remote, recursive=True)
