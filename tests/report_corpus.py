"""A tiny corpus with every input the report reads, written as the jobs write them.

Documents, annotations, a mixed stage's manifest and token sidecar, dead letters in three
job folders, a PDF run summary and an LLM ledger. Returns the paths and the raw rows so
tests can compute expected numbers themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from corpusmill import storage
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA, dead_letter, meta_json, stable_id

# (lang, domain, safety, edu_score, source, text); lang None = the labeler failed.
ROWS = [
    ("eng_Latn", "science/technology", "safe", 4.5, "web", "Photosynthesis turns light into chemical energy."),
    ("eng_Latn", "code", "safe", 3.0, "web", "def add(a, b):\n    return a + b"),
    ("eng_Latn", "sports", "unsafe:violence", 0.5, "web", "The match ended in a brawl."),
    ("fra_Latn", "travel", "safe", 2.0, "web", "Le train part de Lyon à midi."),
    ("zho_Hans", "math", "safe", 5.0, "synth_math", "二加三等于五。"),
    ("deu_Latn", "health", "unsafe:sexual", 1.0, "pdf", "Ein Text aus einem PDF."),
    ("und", None, "safe", 0.0, "web", "@@@ ### !!!"),
    ("xyz_Latn", "geography", "safe", 2.5, "web", "Not a Qwen3 language code."),
    (None, None, None, None, "web", "A document whose labels failed."),
]
OUTSIDE_QWEN3 = "xyz_Latn"
TOKENIZER_FP = "0123456789abcdef" + "0" * 48


@dataclass(frozen=True)
class ReportCorpus:
    docs: str
    annotations: str
    shards: str
    pdf_run: str
    llm_run: str
    rows: list[tuple]
    ids: list[str]
    n_tokens: dict[str, int]


def _documents(docs: Path, ids: list[str]) -> None:
    rows = [
        {"id": i, "text": r[5], "source": r[4], "uri": f"mem://{n}", "meta": meta_json({"lang": r[0] or "und"})}
        for n, (i, r) in enumerate(zip(ids, ROWS))
    ]
    half = len(rows) // 2
    storage.write_parquet(pa.Table.from_pylist(rows[:half], schema=DOCUMENT_SCHEMA), str(docs / "part-00000.parquet"))
    storage.write_parquet(pa.Table.from_pylist(rows[half:], schema=DOCUMENT_SCHEMA), str(docs / "part-00001.parquet"))
    storage.write_json(
        {
            "job": "ingest",
            "records_in": len(rows) + 2,
            "docs": len(rows),
            "duplicates": 1,
            "dead_letters": {"empty_text": 1},
            "elapsed_s": 0.5,
        },
        str(docs / "_summary.json"),
    )


def _annotations(ann: Path, ids: list[str]) -> None:
    cols = {
        "id": ids,
        "lang": [r[0] for r in ROWS],
        "lang_score": [None if r[0] is None else 0.9 for r in ROWS],
        "lang_model": [None if r[0] is None else "lid_sib200" for r in ROWS],
        "lang_model_version": [None if r[0] is None else "3" for r in ROWS],
        "n_chars": [len(r[5]) for r in ROWS],
        "edu_score": pa.array([r[3] for r in ROWS], pa.float32()),
        "edu_model": ["edu_heuristic"] * len(ROWS),
        "edu_model_version": ["1"] * len(ROWS),
        "domain": [r[1] for r in ROWS],
        "safety": [r[2] for r in ROWS],
        # Two quality signals, so the report's small multiples have something to show.
        "gate_letter_frac": pa.array([round(0.35 + 0.05 * (k % 12), 2) for k in range(len(ROWS))], pa.float32()),
        "q_dup_line_frac": pa.array([0.0] * len(ROWS), pa.float32()),
    }
    storage.write_parquet(pa.table(cols), str(ann / "part-00000.parquet"))


def _dead_letters(folder: Path, stage: str, reasons: list[str]) -> None:
    rows = [
        dead_letter(uri=f"file:///in/{n}", stage=stage, reason=r, error="RecordError", message=f"bad input {n}")
        for n, r in enumerate(reasons)
    ]
    storage.write_parquet(
        pa.Table.from_pylist(rows, schema=DEAD_LETTER_SCHEMA), str(folder / "_dead_letters" / f"{stage}-00000.parquet")
    )


def _shards(shards: Path, ids: list[str]) -> dict[str, int]:
    n_tokens = {i: 10 * (k + 1) for k, i in enumerate(ids)}
    tokens = pa.table(
        {
            "id": ids,
            "n_tokens": pa.array(list(n_tokens.values()), pa.int64()),
            "tokens": pa.array([[1] * n for n in n_tokens.values()], pa.list_(pa.int32())),
        }
    )
    storage.write_parquet(tokens, str(shards / "_tokens" / TOKENIZER_FP[:16] / "part-00000-rg00000-k.parquet"))
    manifest = {
        "stage": "s1",
        "seq_len": 4096,
        "packing": "stream",
        "budget_tokens": 300,
        "tokenizer": {"name": "qwen", "sha256": TOKENIZER_FP},
        "totals": {
            "tokens": 250,
            "padding_tokens": 0,
            "padding_ratio": 0.0,
            "documents": 5,
            "sequences": 5,
            "shards": 1,
        },
        "buckets": [
            {
                "name": "code",
                "target_tokens": 100,
                "tokens": 40,
                "documents": 1,
                "documents_used": 1,
                "instances": 2,
                "max_repeats": 2,
                "status": "short",
                "deviation": -0.6,
            },
            {
                "name": "general",
                "target_tokens": None,
                "tokens": 210,
                "documents": 4,
                "documents_used": 4,
                "instances": 4,
                "max_repeats": 1,
                "status": "ok",
                "deviation": 0.0,
            },
        ],
        "unmet": ["code: 40 tokens, target 100 -- CANNOT MEET"],
        "by_lang": {
            "eng_Latn": {"tokens": 150, "documents": 2},
            "fra_Latn": {"tokens": 60, "documents": 1},
            "zho_Hans": {"tokens": 40, "documents": 1},
        },
        "by_domain": {"code": {"tokens": 40, "documents": 1}, "travel": {"tokens": 210, "documents": 3}},
        "by_source": {"web": {"tokens": 250, "documents": 5, "instances": 6}},
        "funnel": {
            "candidates": {"units": 9, "tokens": 400},
            "removed_by_gate": {"too_short": {"units": 3, "tokens": 60}, "bad_chars": {"units": 1, "tokens": 40}},
            "passed_gates": {"units": 5, "tokens": 300},
            "in_no_bucket": {"units": 0, "tokens": 0},
        },
    }
    (shards / "s1").mkdir(parents=True)
    (shards / "s1" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    provenance = pa.table({"seq": [0, 1, 2], "id": ids[:3], "bucket": ["code", "general", "general"]})
    storage.write_parquet(provenance, str(shards / "s1" / "shard-00000.provenance.parquet"))
    _dead_letters(shards / "s1", "mix", ["missing_annotations"])
    return n_tokens


def _runs(pdf: Path, llm: Path) -> None:
    pdf.mkdir(parents=True)
    storage.write_json(
        {
            "job": "extract_pdf",
            "records_in": 3,
            "docs": 2,
            "pages": 7,
            "routes": {"text": 4, "ocr": 2, "failed": 1},
            "engines": {"text_layer": 4, "tesseract": 2},
            "rewrites": {},
            "dead_letters": {"encrypted": 1},
            "dead_letters_total": 1,
        },
        str(pdf / "_summary.json"),
    )
    _dead_letters(pdf, "extract_pdf", ["encrypted"])
    ledger = {
        "requests": 12,
        "http_requests": 14,
        "responses": 11,
        "failures": 1,
        "retries": 2,
        "cache_hits": 3,
        "prompt_tokens": 5400,
        "completion_tokens": 1200,
        "seconds": 3.2,
        "failure_reasons": {"timeout": 1},
    }
    storage.write_json({"job": "synthesize", "records_in": 12, "docs": 11, "llm": ledger}, str(llm / "_summary.json"))
    # A job may also keep its ledger beside the summary (the VLM OCR calls of the PDF run here).
    storage.write_json({**ledger, "prompt_tokens": 900, "failure_reasons": {}}, str(pdf / "_llm_ledger.json"))


def write_report_corpus(root: Path) -> ReportCorpus:
    ids = [stable_id("report-test", str(n)) for n in range(len(ROWS))]
    docs, ann, shards, pdf, llm = (root / n for n in ("docs", "annotations", "shards", "pdf", "llm"))
    _documents(docs, ids)
    _dead_letters(docs, "ingest", ["empty_text", "invalid_utf8", "empty_text"])
    _annotations(ann, ids)
    _dead_letters(ann, "annotate", ["label_failed"])
    n_tokens = _shards(shards, ids)
    _runs(pdf, llm)
    return ReportCorpus(str(docs), str(ann), str(shards), str(pdf), str(llm), list(ROWS), ids, n_tokens)
