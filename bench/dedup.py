"""Near-duplicate detection: our Beam job vs datatrove's 4-stage MinHash pipeline.

Both read the same documents (Parquet, our DOCS_DIR layout), use 5-grams and 112 hashes
(datatrove 14 x 8, FineWeb's setting; ours 16 x 7, chosen from the 0.8 threshold), and run
on one worker; each system runs in a child process so its peak RSS is its own. Prints
docs/s, the ratio, our 2-worker vs 1-worker speed-up and peak RSS of each run.

Run: `python -m bench.dedup [--mb 50] [--quick]`. datatrove's default hash needs `xxhash`.
The corpus is generated: documents recombined from the bundled SIB-200 sample's sentences
(~6 KB each), ~8 % of them edited near-copies (see tests/dedup_corpus.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import pyarrow as pa

from corpusmill import storage
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id
from tests.dedup_corpus import recombined, with_copies

DOC_CHARS = 6000
FILES = 8


def generate(docs_dir: str, megabytes: float, seed: int = 0) -> tuple[int, int]:
    # Sized in UTF-8 bytes: measure a first batch's bytes per document (scripts differ a lot).
    probe = recombined(200, doc_chars=DOC_CHARS, seed=seed)
    per_doc = sum(len(d["text"].encode()) for d in probe) / len(probe)
    n_seeds = max(10, int(megabytes * 1_000_000 / per_doc / 1.08))
    seeds = recombined(n_seeds, doc_chars=DOC_CHARS, seed=seed)
    # About half the seeds get a copy (max_copies=1); keeping every 6th copy leaves ~8 %.
    rows = with_copies(seeds, max_copies=1, seed=seed)
    rows = [r for n, r in enumerate(rows) if r["source"] == "recombined" or n % 6 == 0]
    per = -(-len(rows) // FILES)
    for f in range(FILES):
        chunk = rows[f * per : (f + 1) * per]
        base = f * per
        storage.write_parquet(
            pa.table(
                {
                    "id": [stable_id("bench-dedup", str(base + i)) for i in range(len(chunk))],
                    "text": [r["text"] for r in chunk],
                    "source": [r["source"] for r in chunk],
                    "uri": [f"bench://{base + i}" for i in range(len(chunk))],
                    "meta": [meta_json({"lang": r["lang"], "origin": r["origin"]}) for r in chunk],
                },
                schema=DOCUMENT_SCHEMA,
            ),
            storage.join(docs_dir, f"part-{f:05d}.parquet"),
        )
    return len(rows), sum(len(r["text"].encode()) for r in rows)


def run_ours(docs: str, out: str, workers: int) -> dict:
    from corpusmill.pipelines.dedup import run_dedup

    s = run_dedup(docs, out, workers=workers, progress=False)
    return {"duplicates": s["duplicates"], "clusters": s["clusters"], "passes": s["passes"]}


def run_datatrove(docs: str, out: str, workers: int) -> dict:
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter

    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    logs = os.path.join(out, "logs")

    def read():
        return ParquetReader(docs, text_key="text", id_key="id", glob_pattern="*.parquet")

    stages = [
        ([read(), MinhashDedupSignature(os.path.join(out, "sigs"), config=cfg)], 1),
        ([MinhashDedupBuckets(os.path.join(out, "sigs"), os.path.join(out, "buckets"), config=cfg)], cfg.num_buckets),
        ([MinhashDedupCluster(os.path.join(out, "buckets"), os.path.join(out, "remove"), config=cfg)], 1),
        ([read(), MinhashDedupFilter(os.path.join(out, "remove")), ParquetWriter(os.path.join(out, "kept"))], 1),
    ]
    for n, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(
            pipeline=pipeline, tasks=tasks, workers=workers, logging_dir=os.path.join(logs, str(n))
        ).run()
    removed = glob.glob(os.path.join(out, "remove", "*.remove"))  # uint32 document indices
    return {"duplicates": sum(os.path.getsize(p) // 4 for p in removed)}


def child(system: str, docs: str, out: str, workers: int) -> None:
    start = time.monotonic()
    info = (run_ours if system == "ours" else run_datatrove)(docs, out, workers)
    elapsed = time.monotonic() - start
    rss = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    print(json.dumps({**info, "elapsed_s": elapsed, "peak_rss_mb": rss / 1024}))


def measure(system: str, docs: str, out: str, workers: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dedup", "--child", system, docs, out, str(workers)],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode:
        raise RuntimeError(f"{system} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2], argv[3], int(argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50.0, help="corpus size in MB of text (the issue asks 500)")
    ap.add_argument("--quick", action="store_true", help="2 MB, for a smoke run")
    ap.add_argument("--no-datatrove", action="store_true")
    args = ap.parse_args(argv)
    mb = 2.0 if args.quick else args.mb
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        docs = os.path.join(tmp, "docs")
        n, size = generate(docs, mb)
        print(f"corpus: {n:,} documents, {size / 1e6:.1f} MB of UTF-8 text, {FILES} files")
        results = {}
        for name, system, workers in (("ours_1", "ours", 1), ("datatrove_1", "datatrove", 1), ("ours_2", "ours", 2)):
            if system == "datatrove" and args.no_datatrove:
                continue
            r = measure(system, docs, os.path.join(tmp, name), workers)
            results[name] = r
            print(
                f"{name:<12} {n / r['elapsed_s']:>9,.0f} docs/s  {r['elapsed_s']:>8.1f} s  "
                f"peak RSS {r['peak_rss_mb']:>7,.0f} MB  duplicates {r['duplicates']:,}",
                flush=True,
            )
        if "datatrove_1" in results:
            print(
                f"ours / datatrove (1 worker): {results['datatrove_1']['elapsed_s'] / results['ours_1']['elapsed_s']:.2f}x"
            )
        print(f"ours 2 workers / 1 worker: {results['ours_1']['elapsed_s'] / results['ours_2']['elapsed_s']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
