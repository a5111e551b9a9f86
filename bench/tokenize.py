"""Tokenize + pack + write throughput: our mix job vs datatrove's DocumentTokenizer vs bare tiktoken.

All three see the same multilingual documents (SIB-200 sentences from every language joined
into ~3,000-character documents) and the same Qwen vocabulary: ours through tiktoken, the
peer through a Qwen2-style `tokenizer.json` built from the same ranks. Compared:

- ours: `corpusmill.pipelines.mix.run_mix`, one stream stage taking every document once, end to end
  (token pass, DuckDB plan, shard writers, manifest with sha256), on 1 and 2 workers;
- datatrove: ParquetReader -> DocumentTokenizer (shuffled, with EOS), LocalPipelineExecutor,
  1 task;
- ours without Beam: the same room code (tokenize_table, with_eos, IndexedDatasetWriter) in a
  plain loop on one thread, to separate our own overhead from the framework's;
- ceiling: a bare loop of NFC + tiktoken `encode_ordinary` on one thread, text in memory.

Run: `python -m bench.tokenize [--mb 40] [--quick]`.
"""

from __future__ import annotations

import argparse
import csv
import glob
import os
import random
import shutil
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusmill import storage
from corpusmill.mixers.megatron import IndexedDatasetWriter
from corpusmill.mixers.recipe import recipe_from_dict
from corpusmill.mixers.token_cache import tokenize_table
from corpusmill.mixers.tokenizer import QwenTokenizer, nfc, with_eos
from corpusmill.pipelines.mix import run_mix
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id
from tests.qwen_hf import build_qwen_tokenizer_json

SIB_DIR = "/work/shared/data/sib200"
DOC_CHARS = 3000
ROWS_PER_FILE = 4000


def _sentences() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(glob.glob(os.path.join(SIB_DIR, "*", "train.tsv"))):
        with open(path, encoding="utf-8") as fh:
            found[path.split("/")[-2]] = [
                row["text"] for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            ]
    if not found:
        raise SystemExit(f"no SIB-200 data under {SIB_DIR}")
    return found


def generate(root: str, megabytes: float, seed: int = 0) -> tuple[str, str, int]:
    """Documents and matching annotations Parquet; returns (docs dir, annotations dir, UTF-8 bytes)."""
    rng, sentences = random.Random(seed), _sentences()
    langs = sorted(sentences)
    docs, ann, total, n = [], [], 0, 0
    while total < megabytes * 1e6:
        lang = rng.choice(langs)
        parts, size = [], 0
        while size < DOC_CHARS:
            s = rng.choice(sentences[lang])
            parts.append(s)
            size += len(s) + 1
        text = nfc(" ".join(parts))
        doc_id = stable_id("bench", str(n))
        docs.append({"id": doc_id, "text": text, "source": "sib200", "uri": f"bench://{n}", "meta": meta_json({})})
        ann.append({"id": doc_id, "lang": lang, "edu_score": 3.0, "domain": "other", "safety": "safe"})
        total += len(text.encode("utf-8"))
        n += 1
    docs_dir, ann_dir = os.path.join(root, "docs"), os.path.join(root, "ann")
    for f, start in enumerate(range(0, len(docs), ROWS_PER_FILE)):
        chunk = pa.Table.from_pylist(docs[start : start + ROWS_PER_FILE], schema=DOCUMENT_SCHEMA)
        storage.write_parquet(chunk, os.path.join(docs_dir, f"part-{f:05d}.parquet"))
    storage.write_parquet(pa.Table.from_pylist(ann), os.path.join(ann_dir, "part-00000.parquet"))
    return docs_dir, ann_dir, total


def bare_tiktoken(docs_dir: str) -> tuple[int, float]:
    texts = [
        t
        for f in sorted(glob.glob(os.path.join(docs_dir, "*.parquet")))
        for t in pq.read_table(f, columns=["text"]).column("text").to_pylist()
    ]
    enc = QwenTokenizer(threads=1)._enc()
    start = time.perf_counter()
    n = sum(len(enc.encode_ordinary(nfc(t))) + 1 for t in texts)  # +1: the EOS the others add
    return n, time.perf_counter() - start


def ours(docs_dir: str, ann_dir: str, out: str, workers: int) -> tuple[int, float]:
    recipe = recipe_from_dict(
        {
            "stages": [
                {
                    "name": "bench",
                    "seq_len": 4096,
                    "budget_tokens": 1,
                    "seed": 1,
                    "packing": "stream",
                    "buckets": [{"name": "all", "where": "TRUE", "weight": 1.0}],  # every document exactly once
                }
            ]
        }
    )
    start = time.perf_counter()
    run_mix(recipe, docs_dir, ann_dir, out, workers=workers, progress=False)
    elapsed = time.perf_counter() - start
    return storage.read_json(os.path.join(out, "bench", "manifest.json"))["totals"]["tokens"], elapsed


def room_code(docs_dir: str, out: str) -> tuple[int, float]:
    """Our tokenize + pack + write without Beam, one thread: the framework-free overhead."""
    tok = QwenTokenizer(threads=1)
    tok.encode_batch(["warm up"])  # the ranks load once per process; not part of the rate
    os.makedirs(out, exist_ok=True)
    start, n = time.perf_counter(), 0
    for i, path in enumerate(sorted(glob.glob(os.path.join(docs_dir, "*.parquet")))):
        table = tokenize_table(pq.read_table(path, columns=["id", "text"]), tok)
        tokens = table.column("tokens").combine_chunks()
        ids = tokens.values.to_numpy()
        offsets = tokens.offsets.to_numpy()
        flat, lengths = with_eos([ids[a:b] for a, b in zip(offsets[:-1], offsets[1:])], tok.eos_id)
        with open(os.path.join(out, f"shard-{i:05d}.bin"), "wb") as fh:
            writer = IndexedDatasetWriter(fh, dtype=np.int32, vocab_size=tok.vocab_size)
            writer.add_sequences(flat, lengths)
        with open(os.path.join(out, f"shard-{i:05d}.idx"), "wb") as fh:
            fh.write(writer.index_bytes())
        n += int(flat.size)
    return n, time.perf_counter() - start


def datatrove(docs_dir: str, tokenizer_json: str, out: str, tasks: int) -> tuple[int, float]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.tokens import DocumentTokenizer

    pipeline = [
        ParquetReader(docs_dir, text_key="text", id_key="id", glob_pattern="*.parquet"),
        DocumentTokenizer(
            os.path.join(out, "tokens"),
            tokenizer_name_or_path=tokenizer_json,
            eos_token="<|endoftext|>",
            seed=1,
            shuffle_documents=True,
        ),
    ]
    executor = LocalPipelineExecutor(pipeline, tasks=tasks, workers=tasks, logging_dir=os.path.join(out, "logs"))
    start = time.perf_counter()
    executor.run()
    elapsed = time.perf_counter() - start
    n = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "tokens", "*.ds"))) // 4  # uint32 ids
    return n, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=float, default=40.0, help="megabytes of UTF-8 text (default 40)")
    ap.add_argument("--quick", action="store_true", help="4 MB instead")
    args = ap.parse_args()
    mb = 4.0 if args.quick else args.mb
    work = tempfile.mkdtemp(prefix="bench-tokenize-")
    try:
        docs_dir, ann_dir, nbytes = generate(work, mb)
        tokenizer_json = build_qwen_tokenizer_json(os.path.join(work, "tokenizer.json"))
        print(f"{nbytes / 1e6:.1f} MB of multilingual text ({len(_sentences())} languages)")
        rows = [("bare tiktoken + NFC, 1 thread (ceiling)", *bare_tiktoken(docs_dir))]
        rows.append(
            ("datatrove DocumentTokenizer, 1 task", *datatrove(docs_dir, tokenizer_json, os.path.join(work, "dt1"), 1))
        )
        rows.append(("corpusmill room code, no Beam, 1 thread", *room_code(docs_dir, os.path.join(work, "room"))))
        rows.append(("corpusmill mix, 1 worker", *ours(docs_dir, ann_dir, os.path.join(work, "o1"), 1)))
        rows.append(("corpusmill mix, 2 workers", *ours(docs_dir, ann_dir, os.path.join(work, "o2"), 2)))
        rate = {name: n / s for name, n, s in rows}
        for name, n, s in rows:
            print(f"{name:42s} {n:>12,} tokens {s:7.2f} s {n / s / 1e6:6.2f} M tokens/s")
        ceiling, peer = rate[rows[0][0]], rate[rows[1][0]]
        for name, _, _ in rows[2:]:
            print(
                f"{name}: {rate[name] / peer:.2f}x datatrove (target >= 2), {rate[name] / ceiling:.2f}x bare tiktoken (target >= 0.6)"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
