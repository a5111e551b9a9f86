"""The work of the PDF job, one output part at a time, free of any Beam code.

Inputs are planned into parts of a few PDFs each, in a fixed order. A part reads its PDFs,
extracts them and writes `part-NNNNN.parquet` (documents, with the part's counts in the
footer metadata, as the ingest job does) plus `_dead_letters/extract_pdf-NNNNN.parquet`.
A part file that exists is finished: a re-run skips it, unless it holds transient LLM
failures (its footer counts them as `retryable`): then a re-run reopens it (`reopen_retryable`)
and extracts it again, the response cache answering every page already answered.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from corpusmill import storage
from corpusmill.errors import InputNotFoundError
from corpusmill.extractors.pdf.extractor import STAGE, PdfExtractor, document_id
from corpusmill.layout import DEAD_LETTERS_DIR, file_stats, part_path, with_stats
from corpusmill.llm.types import TRANSIENT_REASONS, fold_usage, is_transient, usage_as_dict, usage_from_dict
from corpusmill.schema import DEAD_LETTER_SCHEMA, DOCUMENT_SCHEMA, DeadLetter, dead_letter

PDFS_PER_PART = 8  # OCR-heavy PDFs take minutes: small parts keep workers evenly loaded
# LLM usage per part, beside the part files: it holds timings, so it stays out of the
# (byte-identical) Parquet footers.
LEDGERS_DIR = "_llm_ledgers"


@dataclass(frozen=True)
class PdfInput:
    uri: str  # where the file is read from
    name: str  # stable name ("folder/relative/path.pdf") the document id derives from


def plan_pdfs(sources: list[str]) -> list[PdfInput]:
    """PDF inputs named by files, folders (their *.pdf files) or globs, in a fixed order."""
    found: dict[str, PdfInput] = {}
    for src in sources:
        files = storage.expand(src)
        fs, root = storage.filesystem(src)
        is_dir = fs.isdir(root)
        if is_dir:
            files = [f for f in files if f.lower().endswith(".pdf")]
        if not files:
            raise InputNotFoundError(f"input not found: {src} (no PDF file, folder or glob match)")
        base = root.rstrip("/") if is_dir else None
        for f in files:
            path = storage.filesystem(f)[1]
            # The folder's own name (or the file's parent's) keeps x.pdf in two inputs apart
            # while the ids stay independent of where the inputs are stored.
            if base is not None:
                name = posixpath.join(posixpath.basename(base), os.path.relpath(path, base))
            else:
                name = posixpath.join(posixpath.basename(posixpath.dirname(path)), posixpath.basename(path))
            found.setdefault(f, PdfInput(f, name))
    return sorted(found.values(), key=lambda x: x.uri)


def plan_parts(inputs: list[PdfInput], per_part: int = PDFS_PER_PART) -> list[tuple[PdfInput, ...]]:
    return [tuple(inputs[i : i + per_part]) for i in range(0, len(inputs), per_part)]


def ledger_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, LEDGERS_DIR, f"part-{index:05d}.json")


def dead_letters_path(out_dir: str, index: int) -> str:
    return storage.join(out_dir, DEAD_LETTERS_DIR, f"{STAGE}-{index:05d}.parquet")


def _read(pdf: PdfInput) -> bytes | DeadLetter:
    try:
        fs, path = storage.filesystem(pdf.uri)
        with fs.open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        return dead_letter(
            uri=pdf.uri,
            stage=STAGE,
            reason="unreadable",
            error=type(exc).__name__,
            message=str(exc),
            id=document_id(pdf.name),
        )


def _page_counts(rows: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """Pages by route and by engine, rewrites by outcome (and failed rewrites by whether a
    re-run would retry them): from the documents' meta."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("routes", "engines", "rewrites", "retry")}
    for row in rows:
        for page in json.loads(row["meta"])["pages"]:
            counts["routes"]["failed" if page.get("error") else page["route"]] += 1
            if page.get("engine") and not page.get("error"):
                counts["engines"][page["engine"]] += 1
            if "rewrite" in page:
                rewrite = page["rewrite"]
                counts["rewrites"][rewrite["status"]] += 1
                if rewrite["status"] == "failed" and rewrite["reason"] in TRANSIENT_REASONS:
                    counts["retry"]["rewrite"] += 1
    return counts


def extract_part(index: int, pdfs: tuple[PdfInput, ...], out_dir: str, extractor: PdfExtractor) -> dict[str, Any]:
    """Extract one part's PDFs and write its files; returns the part's counts."""
    final = part_path(out_dir, index)
    if storage.exists(final):
        return file_stats(final)
    rows: list[dict[str, Any]] = []
    dead: list[DeadLetter] = []
    for pdf in pdfs:
        data = _read(pdf)
        if isinstance(data, dict):
            dead.append(data)
            continue
        result = extractor.extract(pdf.uri, data, name=pdf.name)
        dead.extend(result.dead_letters)
        if result.document is not None:
            rows.append(result.document)
    counts = _page_counts(rows)
    counts["dead_letters"] = Counter(d["reason"] for d in dead if d["stage"] == STAGE)
    counts["page_dead_letters"] = Counter(d["reason"] for d in dead if d["stage"] != STAGE)
    retryable = counts.pop("retry")["rewrite"] + sum(is_transient(d["stage"], d["reason"]) for d in dead)
    stats: dict[str, Any] = {
        "records_in": len(pdfs),
        "docs": len(rows),
        "chars": sum(len(r["text"]) for r in rows),
        "pages": sum(counts["routes"].values()),
        "retryable": retryable,
    }
    stats.update({key: dict(sorted(c.items())) for key, c in counts.items()})
    usage = usage_as_dict(extractor.take_ledger())
    if usage:
        storage.write_json(usage, ledger_path(out_dir, index))
    if dead:
        table = pa.Table.from_pylist(dead, schema=DEAD_LETTER_SCHEMA)
        storage.write_parquet(table, dead_letters_path(out_dir, index))
    else:  # an earlier attempt's, left by a retry that was interrupted while reopening the part
        storage.remove_tree(dead_letters_path(out_dir, index))
    table = pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA)
    table = with_stats(table, stats)
    storage.write_parquet(table, final)  # last: its existence marks the part finished
    return stats


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for key, n in more.items():
        total[key] = total.get(key, 0) + n


def summarize(out_dir: str, n_parts: int) -> dict[str, Any]:
    """Sum the per-part counts of a finished run."""
    total: dict[str, Any] = {"records_in": 0, "docs": 0, "chars": 0, "pages": 0}
    maps = ("routes", "engines", "rewrites", "dead_letters", "page_dead_letters")
    total.update({key: {} for key in maps})
    for i in range(n_parts):
        stats = file_stats(part_path(out_dir, i))
        for key in ("records_in", "docs", "chars", "pages"):
            total[key] += stats.get(key, 0)
        for key in maps:
            _add(total[key], stats.get(key, {}))
    for key in maps:
        total[key] = dict(sorted(total[key].items()))
    total["dead_letters_total"] = sum(total["dead_letters"].values())
    parts = (ledger_path(out_dir, i) for i in range(n_parts))
    llm = fold_usage(usage_from_dict(storage.read_json(p)) for p in parts if storage.exists(p))
    if llm:
        total["llm"] = usage_as_dict(llm)
    return total


def pending_retries(out_dir: str, n_parts: int) -> int:
    """Pages and PDFs of the finished parts that failed for a transient LLM reason."""
    parts = (part_path(out_dir, i) for i in range(n_parts))
    return sum(file_stats(p).get("retryable", 0) for p in parts if storage.exists(p))


def reopen_retryable(out_dir: str, n_parts: int) -> int:
    """Remove the parts holding transient LLM failures (the part file first: from then on the
    part is unfinished) with their dead letters and ledgers; returns the failures reopened."""
    reopened = 0
    for i in range(n_parts):
        final = part_path(out_dir, i)
        retryable = file_stats(final).get("retryable", 0) if storage.exists(final) else 0
        if retryable:
            storage.remove_tree(final)
            storage.remove_tree(dead_letters_path(out_dir, i))
            storage.remove_tree(ledger_path(out_dir, i))
            reopened += retryable
    return reopened
