"""S3 for long documents: books are cut into windows at paragraph breaks and fill the long-context stage."""

import dataclasses
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq
import pytest

from corpusmill.mixers.recipe import default_recipe, recipe_from_dict
from corpusmill.mixers.tokenizer import QwenTokenizer
from corpusmill.mixers.windows import cut_points
from corpusmill.pipelines.mix import run_mix
from tests.beam_runners import runner_kwargs
from tests.long_corpus import write_long_corpus
from tests.test_mix_job import read_stage

EOS = 151643
S3_BUDGET = 160_000  # 75% = 120K tokens: more than the long bucket holds once, so every long unit is used


@pytest.fixture(scope="module")
def long_mix(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    docs, ann, texts = write_long_corpus(root)
    out = str(root / "shards")
    recipe = default_recipe("s3").with_budget(S3_BUDGET)
    result = run_mix(recipe, docs, ann, out, progress=False, **runner_kwargs("in_process"))
    return out, result, texts


def test_cut_points_prefer_paragraph_breaks_and_never_overfill():
    breaks = np.array([100, 5000, 9000, 15000, 16000, 30000, 32000, 40000])
    assert cut_points(45_000, breaks, 32_767) == [(0, 32_000, True), (32_000, 45_000, True)]
    # No break in the second half of a window: a hard cut at the window's full length.
    assert cut_points(70_000, np.array([10], np.int64), 32_767) == [
        (0, 32_767, False),
        (32_767, 65_534, False),
        (65_534, 70_000, True),
    ]
    assert cut_points(500, breaks, 32_767) == [(0, 500, True)]


def test_book_lands_in_s3_as_windows_cut_at_paragraphs(long_mix):
    out, result, texts = long_mix
    tok = QwenTokenizer()
    book_id = next(i for i, t in texts.items() if len(t) == max(map(len, texts.values())))
    book = tok.encode_batch([texts[book_id]])[0]
    assert len(book) >= 40_000
    placed = [
        row for _, prov in read_stage(os.path.join(out, "s3")) for row in prov.to_pylist() if row["id"] == book_id
    ]
    windows = result.plans[0].windows.filter(pa.compute.equal(result.plans[0].windows.column("id"), book_id))
    assert windows.num_rows == 2 and 0 in {r["part"] for r in placed}, "the book's first window should be in S3"
    assert {(r["start"], r["length"]) for r in placed} <= {(w["start"], w["length"]) for w in windows.to_pylist()}
    for r in placed:
        assert r["length"] <= 32_768
        end = r["start"] + r["length"]
        if end < len(book):  # a cut inside the book falls right after a blank line
            assert tok.decode(book[r["start"] : end]).rstrip(" ").endswith("\n\n")
    summary = result.plans[0].split_summary()
    assert summary["documents"] == 1 and summary["cuts_at_paragraph"] == summary["cuts"] >= 1
    assert "long documents: 1 split into" in result.plans[0].describe()


def test_s3_tokens_come_mostly_from_long_documents(long_mix):
    out, result, texts = long_mix
    tok = QwenTokenizer()
    doc_tokens = {i: len(ids) for i, ids in zip(texts, tok.encode_batch(list(texts.values())))}
    total = long_tokens = 0
    for _, prov in read_stage(os.path.join(out, "s3")):
        for doc_id, length in zip(prov.column("id").to_pylist(), prov.column("length").to_pylist()):
            total += length
            long_tokens += length if doc_tokens[doc_id] >= 16_384 else 0
    assert total >= 0.95 * S3_BUDGET
    assert long_tokens / total >= 0.70, long_tokens / total
    # The buckets count windows: the book's first window joins the three novellas in the long bucket.
    long_bucket = next(b for b in result.plans[0].buckets if b.name == "long")
    assert long_bucket.documents == 4 and abs(long_bucket.deviation) < 0.01


def test_language_shares_follow_the_corpus(long_mix, tmp_path):
    out, result, texts = long_mix
    docs = os.path.join(os.path.dirname(out), "docs")
    ann = os.path.join(os.path.dirname(out), "ann")
    steered = result.plans[0]
    pool = recipe_from_dict({"extends": "s3", "stages": [{**_s3_dict(), "language_shares": "pool"}]})
    pool = pool.with_budget(S3_BUDGET)
    plain = run_mix(pool, docs, ann, str(tmp_path / "o"), dry_run=True, progress=False, **runner_kwargs("in_process"))
    target = steered.language_target
    off_steered = sum(abs(steered.language_shares().get(k, 0) - v) for k, v in target.items())
    off_plain = sum(abs(plain.plans[0].language_shares().get(k, 0) - v) for k, v in target.items())
    assert off_steered < off_plain


def _s3_dict() -> dict:
    stage = default_recipe("s3").stages[0]
    return {**dataclasses.asdict(stage), "buckets": [dataclasses.asdict(b) for b in stage.buckets]}


def test_token_sidecar_records_paragraph_breaks(long_mix):
    out, _, texts = long_mix
    files = [
        os.path.join(dp, n) for dp, _, ns in os.walk(os.path.join(out, "_tokens")) for n in ns if n.endswith(".parquet")
    ]
    table = pq.read_table(files[0])
    rows = {r["id"]: r for r in table.to_pylist()}
    tok = QwenTokenizer()
    for doc_id, row in rows.items():
        if row["n_tokens"] >= 2048:
            assert row["breaks"], doc_id
            ids = row["tokens"]
            assert all(tok.decode(ids[:b]).rstrip(" ").endswith("\n\n") for b in row["breaks"][:20])
        else:
            assert row["breaks"] == []
