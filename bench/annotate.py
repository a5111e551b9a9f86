"""Annotate throughput: our one-pass job (all labelers) vs a datatrove labeling pipeline.

Same documents (~6 KB each, 35 languages, built from the bundled SIB-200 sample), both on
one worker. Peer: datatrove ParquetReader -> LanguageFilter (fastText, label only; with our
trained LID model, since lid.176 cannot be downloaded here) -> FastTextClassifierFilter
(our SIB-200 topic model, labels in metadata, nothing removed) -> GopherQualityFilter
(spaCy word splitting, as datatrove does for English) -> ParquetWriter (labels as one JSON
column: datatrove fixes the schema on the first document, and label keys differ between documents). Ours: the annotate
Beam job with every default labeler (n_chars, lang_id, quality, edu, domain, safety) on
FnApiRunner, writing sidecars. Also prints both sides' CPU seconds (steadier than wall time on
a shared machine) and each labeler's docs/s on the same documents.

    python -m bench.annotate [--docs 3000] [--quick] [--lid-model PATH] [--lang-only]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict

import pyarrow as pa

from corpusmill import storage
from corpusmill.annotators import registry
from corpusmill.annotators.domain import PACKAGE_MODELS, TOPIC_MODEL
from corpusmill.pipelines.annotate import build_annotators, run_annotate
from corpusmill.sample_data import sample_jsonl
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id

DOC_CHARS = 6000


def make_documents(out_dir: str, n_docs: int, files: int = 4) -> int:
    """`n_docs` documents of ~6 KB: sample documents of one language joined, cycling the sample."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    with gzip.open(sample_jsonl(), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["source"] == "sib200":
                by_lang[row["lang"]].append(row["text"])
    langs = sorted(by_lang)
    rows = []
    for i in range(n_docs):
        pool = by_lang[langs[i % len(langs)]]
        parts, k = [], i // len(langs)
        while sum(len(p) for p in parts) < DOC_CHARS:
            parts.append(pool[k % len(pool)])
            k += 1
        text = "\n\n".join(parts)
        rows.append(
            {
                "id": stable_id("bench", str(i)),
                "text": text,
                "source": "bench",
                "uri": f"bench://{i}",
                "meta": meta_json({"lang": langs[i % len(langs)]}),
            }
        )
    per_file = -(-n_docs // files)
    for f in range(files):
        chunk = rows[f * per_file : (f + 1) * per_file]
        storage.write_parquet(
            pa.Table.from_pylist(chunk, schema=DOCUMENT_SCHEMA), storage.join(out_dir, f"part-{f:05d}.parquet")
        )
    return n_docs


def _accept_fasttext_numpy2() -> None:
    """datatrove insists on the `fasttext-numpy2-wheel` distribution; ours is `fasttext-numpy2`,
    the same `fasttext` module (DESIGN.md: keep exactly one binding), so map the name."""
    from datatrove.utils import _import_utils as iu

    available = iu._is_distribution_available
    iu._is_distribution_available = lambda name: available(
        "fasttext-numpy2" if name == "fasttext-numpy2-wheel" else name
    )


def _labels_as_json(step: object, doc: object) -> dict:
    return {"id": doc.id, "labels": json.dumps(doc.metadata, sort_keys=True, default=str)}


def run_peer(docs_dir: str, out_dir: str, lid_model: str, topic_model: str) -> None:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import FastTextClassifierFilter, GopherQualityFilter, LanguageFilter
    from datatrove.pipeline.readers import ParquetReader
    from datatrove.pipeline.writers import ParquetWriter
    from datatrove.utils.lid import FastTextLID

    _accept_fasttext_numpy2()

    class OurLID(FastTextLID):  # datatrove's fastText LID, pointed at our model file
        MODEL_URL = lid_model
        MODEL_SUBFOLDER = "corpusmill"

    lid = LanguageFilter(label_only=True)
    lid.model = OurLID()
    labels = ["science/technology", "travel", "politics", "sports", "health", "entertainment", "geography"]
    LocalPipelineExecutor(
        pipeline=[
            ParquetReader(docs_dir, glob_pattern="*.parquet"),
            lid,
            FastTextClassifierFilter(topic_model, keep_labels=[(x, 0.0) for x in labels]),
            GopherQualityFilter(
                min_doc_words=None,
                max_doc_words=None,
                min_avg_word_length=None,
                max_avg_word_length=None,
                min_stop_words=None,
                max_non_alpha_words_ratio=None,
                max_symbol_word_ratio=None,
                max_bullet_lines_ratio=None,
                max_ellipsis_lines_ratio=None,
            ),
            ParquetWriter(out_dir, adapter=_labels_as_json),
        ],
        tasks=1,
        workers=1,
        logging_dir=os.path.join(out_dir, "_logs"),
        skip_completed=False,
    ).run()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children. Both sides run in this process on
    one worker, so on a shared machine their CPU seconds compare more steadily than wall time
    (other jobs stretch the wall clock of whichever side they overlap)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def per_labeler(docs_dir: str) -> dict[str, float]:
    """docs/s of each default labeler alone, in process, on the benchmark documents."""
    table = pa.concat_tables(
        storage.read_parquet(p, columns=["id", "text"]) for p in storage.expand(storage.join(docs_dir, "*.parquet"))
    )
    rates = {}
    for a in build_annotators():
        a.setup()
        hint = a.batch_hint() if hasattr(a, "batch_hint") else None
        step = hint.max_docs if hint else 256
        start = time.perf_counter()
        for i in range(0, table.num_rows, step):
            a.label(table.slice(i, step))
        rates[a.name] = table.num_rows / (time.perf_counter() - start)
    return rates


def lang_only(docs_dir: str, big_docs: int = 20, big_bytes: int = 1_000_000) -> None:
    """lang_id alone, in process: docs/s on the ~6 KB documents, then ms per 1 MB document
    (a 2 KB English header + one language; the cost is bounded by the windows read)."""
    table = pa.concat_tables(
        storage.read_parquet(p, columns=["id", "text"]) for p in storage.expand(storage.join(docs_dir, "*.parquet"))
    )
    annotator = registry.create("lang_id")
    annotator.setup()
    step = annotator.batch_hint().max_docs
    start = time.perf_counter()
    for i in range(0, table.num_rows, step):
        annotator.label(table.slice(i, step))
    print(f"lang_id alone: {table.num_rows / (time.perf_counter() - start):,.0f} docs/s on ~{DOC_CHARS} chars (1 core)")
    texts = table.column("text").to_pylist()
    header = "This electronic edition is distributed under the terms of the Open Shelf License. " * 25
    big = [header + (texts[i] + "\n\n") * (big_bytes // max(len(texts[i].encode()), 1)) for i in range(big_docs)]
    batch = pa.table({"id": [str(i) for i in range(big_docs)], "text": pa.array(big, pa.large_string())})
    start = time.perf_counter()
    annotator.label(batch)
    took = (time.perf_counter() - start) / big_docs
    print(f"lang_id alone: {took * 1000:.1f} ms per ~{big_bytes // 1_000_000} MB document ({1 / took:,.0f} docs/s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="300 documents")
    parser.add_argument("--lid-model", default=None, help="fastText LID model for the peer (default: ours)")
    parser.add_argument("--lang-only", action="store_true", help="only lang_id, in process: ~6 KB and 1 MB documents")
    args = parser.parse_args(argv)
    n = 300 if args.quick else args.docs
    if args.lang_only:
        work = tempfile.mkdtemp(prefix="bench-lang-")
        try:
            make_documents(os.path.join(work, "docs"), n)
            lang_only(os.path.join(work, "docs"))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    lid_model = args.lid_model or str(registry.create("lang_id").model_path)
    work = tempfile.mkdtemp(prefix="bench-annotate-")
    try:
        docs = os.path.join(work, "docs")
        make_documents(docs, n)
        start, cpu = time.perf_counter(), cpu_seconds()
        run_peer(docs, os.path.join(work, "peer"), lid_model, os.path.join(PACKAGE_MODELS, TOPIC_MODEL))
        peer, peer_cpu = n / (time.perf_counter() - start), cpu_seconds() - cpu
        start, cpu = time.perf_counter(), cpu_seconds()
        summary = run_annotate(docs, os.path.join(work, "ann"), workers=1, progress=False)
        ours, ours_cpu = n / (time.perf_counter() - start), cpu_seconds() - cpu
        assert summary["docs"] == n
        print(f"documents: {n} of ~{DOC_CHARS} chars, 1 worker each")
        print(f"datatrove LID + fastText classifier + Gopher quality: {peer:,.1f} docs/s ({peer_cpu:.1f} CPU s)")
        print(
            f"corpusmill annotate (all labelers, {len(summary['annotators'])}): {ours:,.1f} docs/s ({ours_cpu:.1f} CPU s)"
        )
        print(f"ratio: {ours / peer:.2f}x (target >= 4x); in CPU seconds: {peer_cpu / ours_cpu:.2f}x")
        for name, rate in per_labeler(docs).items():
            print(f"  labeler {name}: {rate:,.0f} docs/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
