"""Report build time on a generated corpus of 1M annotated documents, vs a pyarrow peer.

Ours: `build_report` (DuckDB aggregates over the Parquet files, one GROUPING SETS scan,
then SVG and HTML). Peer: the same aggregates computed in Python the usual way without a
query engine: `pyarrow.parquet.read_table` of the needed columns into memory, `Table.join`
and one `group_by().aggregate()` per chart. Both answers are compared before timing counts.
Run: `python -m bench.report [--docs 1000000] [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.corpus import open_corpus
from corpusmill.languages import qwen3_languages
from corpusmill.report import build_report
from corpusmill.report.inputs import dead_letter_files, token_files
from corpusmill.report.queries import composition
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA

FILES = 16
SOURCES = ("web", "web_news", "pdf", "synth_math", "synth_code", "books")
DOMAINS = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography", "code", "math")
TOKENIZER_FP = "beefbeefbeefbeef" + "0" * 48
WORDS = "data corpus model token language river mountain école naïve straße 数据 语料 данные корпус".split()


def _texts(rng: np.random.Generator, n: int) -> pa.Array:
    pool = pa.array([" ".join(rng.choice(WORDS, size=rng.integers(5, 40))) for _ in range(2000)], pa.large_string())
    return pool.take(pa.array(rng.integers(0, len(pool), n)))


def _part(rng: np.random.Generator, start: int, n: int, langs: list[str]) -> tuple[pa.Table, pa.Table, pa.Table]:
    ids = pa.array([f"{i:020x}" for i in range(start, start + n)])
    texts = _texts(rng, n)
    weights = 1 / np.arange(1, len(langs) + 1) ** 1.1  # Zipf-like: a few big languages, a long tail
    lang = pa.array(np.array(langs)[rng.choice(len(langs), n, p=weights / weights.sum())])
    docs = pa.Table.from_arrays(
        [
            ids,
            texts,
            pa.array(np.array(SOURCES)[rng.integers(0, len(SOURCES), n)]),
            pa.array([f"s3://bucket/raw/{i}" for i in range(start, start + n)]),
            pa.array(['{"url":"https://example.org/"}'] * n),
        ],
        schema=DOCUMENT_SCHEMA,
    )
    n_chars = pc.utf8_length(texts).cast(pa.int64())
    safety = np.where(
        rng.random(n) < 0.97,
        "safe",
        np.array(["unsafe:sexual", "unsafe:hate", "unsafe:violence"])[rng.integers(0, 3, n)],
    )
    ann = pa.table(
        {
            "id": ids,
            "n_chars": n_chars,
            "n_chars_model": ["n_chars"] * n,
            "n_chars_model_version": ["1"] * n,
            "lang": lang,
            "lang_score": pa.array(rng.random(n), pa.float32()),
            "script": ["Latn"] * n,
            "lang_model": ["lid_sib200"] * n,
            "lang_model_version": ["3"] * n,
            "q_n_words": pa.array(rng.integers(5, 40, n), pa.int32()),
            "q_mean_word_length": pa.array(rng.random(n) * 8, pa.float32()),
            "edu_score": pa.array(np.clip(rng.normal(2.2, 1.1, n), 0, 5), pa.float32()),
            "edu_model": ["edu_student"] * n,
            "edu_model_version": ["a1b2c3"] * n,
            "domain": pa.array(np.array(DOMAINS)[rng.integers(0, len(DOMAINS), n)]),
            "domain_score": pa.array(rng.random(n), pa.float32()),
            "domain_model": ["domain_sib200"] * n,
            "domain_model_version": ["1+d4e5"] * n,
            "safety": pa.array(safety),
            "safety_score": pa.array(rng.random(n), pa.float32()),
            "safety_model": ["lexicon"] * n,
            "safety_model_version": ["1"] * n,
        }
    )
    # The report reads only id and n_tokens from the sidecar, so the token lists stay empty here.
    toks = pa.table(
        {
            "id": ids,
            "n_tokens": pc.floor(pc.multiply(n_chars, 0.3)).cast(pa.int64()),
            "tokens": pa.array([[]] * n, pa.list_(pa.int32())),
        }
    )
    return docs, ann, toks


def generate(root: str, n_docs: int, seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    langs = [lang.code for lang in qwen3_languages()][:100] + ["und", "xho_Latn", "zul_Latn"]
    paths = {k: os.path.join(root, k) for k in ("docs", "annotations", "shards")}
    per = -(-n_docs // FILES)
    for f in range(FILES):
        start = f * per
        n = min(per, n_docs - start)
        docs, ann, toks = _part(rng, start, n, langs)
        storage.write_parquet(docs, f"{paths['docs']}/part-{f:05d}.parquet")
        storage.write_parquet(ann, f"{paths['annotations']}/part-{f:05d}.parquet")
        storage.write_parquet(toks, f"{paths['shards']}/_tokens/{TOKENIZER_FP[:16]}/part-{f:05d}-rg00000-k.parquet")
    for folder, stage in ((paths["docs"], "ingest"), (paths["annotations"], "annotate")):
        reasons = np.array(["empty_text", "invalid_utf8", "too_long", "label_failed"])[rng.integers(0, 4, 5000)]
        rows = [
            {"id": None, "uri": f"s3://raw/{i}", "stage": stage, "reason": r, "error": "RecordError", "message": "bad"}
            for i, r in enumerate(reasons)
        ]
        storage.write_parquet(
            pa.Table.from_pylist(rows, DEAD_LETTER_SCHEMA), f"{folder}/_dead_letters/{stage}-00000.parquet"
        )
    manifest = {
        "stage": "s1",
        "seq_len": 4096,
        "packing": "stream",
        "budget_tokens": 10**9,
        "tokenizer": {"sha256": TOKENIZER_FP},
        "totals": {"tokens": 9 * 10**8},
        "buckets": [
            {"name": "code", "target_tokens": 10**8, "tokens": 9 * 10**7},
            {"name": "general", "target_tokens": 9 * 10**8, "tokens": 8 * 10**8},
        ],
        "by_lang": {c: {"tokens": 1000 * (i + 1)} for i, c in enumerate(langs[:50])},
        "by_domain": {d: {"tokens": 5000} for d in DOMAINS},
    }
    os.makedirs(os.path.join(paths["shards"], "s1"))
    with open(os.path.join(paths["shards"], "s1", "manifest.json"), "w") as fh:
        json.dump(manifest, fh)
    return paths


def peer(paths: dict[str, str]) -> dict[str, Counter]:
    """The report's aggregates with pyarrow in Python: read the columns, join, group by each dimension."""
    docs = pq.read_table(paths["docs"], columns=["id", "source"])
    ann = pq.read_table(paths["annotations"], columns=["id", "lang", "domain", "safety", "edu_score", "n_chars"])
    toks = pq.read_table(f"{paths['shards']}/_tokens/{TOKENIZER_FP[:16]}", columns=["id", "n_tokens"])
    facts = docs.join(ann, "id").join(toks, "id")
    edu = pc.multiply(pc.floor(pc.divide(facts["edu_score"].cast(pa.float64()), 0.5)), 0.5)
    facts = facts.append_column("edu_bin", pc.if_else(pc.greater_equal(facts["edu_score"], 4.5), 4.5, edu))
    out = {}
    for dim in ("source", "lang", "domain", "safety", "edu_bin"):
        g = facts.group_by(dim).aggregate([("id", "count"), ("n_chars", "sum"), ("n_tokens", "sum")])
        out[dim] = Counter(dict(zip(g[dim].to_pylist(), g["id_count"].to_pylist())))
    dead = pa.concat_tables(
        pq.read_table(f, columns=["stage", "reason"]) for f in dead_letter_files([paths["docs"], paths["annotations"]])
    )
    g = dead.group_by(["stage", "reason"]).aggregate([("stage", "count")])
    out["dead"] = Counter(dict(zip(zip(g["stage"].to_pylist(), g["reason"].to_pylist()), g["stage_count"].to_pylist())))
    return out


def ours_aggregates(paths: dict[str, str]) -> dict[str, Counter]:
    with open_corpus(paths["docs"], paths["annotations"]) as corpus:
        corpus.con.execute("SET enable_progress_bar = false")
        comp = composition(corpus, token_files(paths["shards"], [{"tokenizer": {"sha256": TOKENIZER_FP}}]))
    return {dim: Counter({g.key: g.docs for g in groups}) for dim, groups in comp.by.items()}


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_child(fn: Callable[..., Any], *args: Any) -> tuple[float, Any, float]:
    """(seconds, result, peak RSS MiB) of `fn` in a fresh interpreter, so the peaks do not mix."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        return pool.submit(_timed, fn, *args).result()


def _report(paths: dict[str, str], out: str) -> tuple[int, int]:
    result = build_report(paths["docs"], out, annotations=paths["annotations"], shards=paths["shards"])
    return len(result.charts), os.path.getsize(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50k documents")
    args = parser.parse_args()
    n = 50_000 if args.quick else args.docs
    root = tempfile.mkdtemp(prefix="bench-report-")
    try:
        t = time.perf_counter()
        paths = generate(root, n)
        print(f"generated {n:,} documents + annotations + token counts in {time.perf_counter() - t:.1f}s")
        base_mib = in_child(int)[2]
        report_s, (charts, size), report_mib = in_child(_report, paths, os.path.join(root, "report.html"))
        ours_s, ours, ours_mib = in_child(ours_aggregates, paths)
        peer_s, theirs, peer_mib = in_child(peer, paths)
        for dim in ("source", "lang", "domain", "safety", "edu_bin"):
            assert ours[dim] == theirs[dim], f"{dim}: DuckDB and pyarrow disagree"
        print(
            f"report (DuckDB + SVG + HTML): {report_s:.2f}s, {charts} charts, {size / 1e3:.0f} kB, "
            f"peak RSS {report_mib:.0f} MiB (empty process: {base_mib:.0f} MiB)"
        )
        print(
            f"aggregates only: DuckDB {ours_s:.2f}s ({ours_mib:.0f} MiB) vs pyarrow read+join+group_by "
            f"{peer_s:.2f}s ({peer_mib:.0f} MiB) -> ours is {peer_s / ours_s:.2f}x the peer's speed"
        )
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
