"""Ingest throughput: our Beam job (1 and 2 workers) vs a plain single-process loop.

The peer reads the same JSONL with the standard library, applies the same normalization
(NFC, control characters) and writes zstd Parquet with pyarrow: the floor any framework's
overhead is measured against. Run: `python -m bench.ingest [--mb 500] [--rounds 3] [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

from corpusmill.pipelines.ingest import run_ingest
from corpusmill.textnorm import normalize

WORDS = (
    "data corpus model token language the of and to in is that for on with as river mountain "
    "école naïve façade über straße café año niño résumé"
).split()


def generate(path: str, megabytes: int, doc_chars: int = 6000, seed: int = 0) -> int:
    rng = random.Random(seed)
    target, n = megabytes * 1_000_000, 0
    with open(path, "w", encoding="utf-8") as fh:
        while fh.tell() < target:
            words = []
            size = 0
            while size < doc_chars:
                w = rng.choice(WORDS)
                words.append(w)
                size += len(w) + 1
            fh.write(
                json.dumps({"text": " ".join(words), "url": f"https://example.org/{n}"}, ensure_ascii=False) + "\n"
            )
            n += 1
    return n


def plain_loop(src: str, out: str) -> int:
    """read -> json -> normalize -> Parquet, single process, batches of 10k rows."""
    writer, rows, n = None, [], 0
    schema = pa.schema([("text", pa.large_string()), ("meta", pa.string())])
    with open(src, "rb") as fh:
        for line in fh:
            obj = json.loads(line)
            rows.append({"text": normalize(obj.pop("text")), "meta": json.dumps(obj)})
            n += 1
            if len(rows) == 10_000:
                writer = writer or pq.ParquetWriter(out, schema, compression="zstd")
                writer.write_table(pa.Table.from_pylist(rows, schema))
                rows = []
    writer = writer or pq.ParquetWriter(out, schema, compression="zstd")
    writer.write_table(pa.Table.from_pylist(rows, schema))
    writer.close()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=500, help="size of the generated JSONL")
    ap.add_argument("--quick", action="store_true", help="50 MB instead, one round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the three runs (default 3)")
    args = ap.parse_args()
    mb = 50 if args.quick else args.mb
    rounds = 1 if args.quick else args.rounds
    work = tempfile.mkdtemp(prefix="bench-ingest-")
    try:
        src = os.path.join(work, "docs.jsonl")
        n = generate(src, mb)
        print(f"generated {n:,} documents, {os.path.getsize(src) / 1e6:,.0f} MB; {rounds} round(s)")
        # Rounds interleave the three runs, so a slow minute on a shared machine hits all
        # of them alike; each row reports its median over the rounds.
        rates: dict[str, list[float]] = {"plain": [], "1": [], "2": []}
        for r in range(rounds):
            t = time.perf_counter()
            plain_loop(src, os.path.join(work, "plain.parquet"))
            rates["plain"].append(n / (time.perf_counter() - t))
            for workers in (1, 2):
                out = os.path.join(work, f"ours{workers}")
                shutil.rmtree(out, ignore_errors=True)
                t = time.perf_counter()
                run_ingest([src], out, workers=workers, progress=False)
                rates[str(workers)].append(n / (time.perf_counter() - t))
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}" for k, v in rates.items()) + " docs/s")
        plain, one, two = (statistics.median(rates[k]) for k in ("plain", "1", "2"))
        print(f"plain pyarrow loop (1 process): {plain:,.0f} docs/s (median)")
        print(f"corpusmill ingest, 1 worker, dedup on: {one:,.0f} docs/s (median)")
        print(f"corpusmill ingest, 2 workers, dedup on: {two:,.0f} docs/s (median)")
        print(f"ratio ours(1 worker) / plain loop: {one / plain:.2f}x (target >= 0.5x)")
        print(f"ratio ours(2 workers) / ours(1 worker): {two / one:.2f}x (target >= 1.6x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
