"""Score any annotator against a TSV of `text<TAB>label`: accuracy and per-class precision/recall.

The compared column is the annotator's first column unless named (`lang` for lang_id,
`domain`, `safety`, `edu_score`...); numeric labels are rounded to integers first, so
`edu_score` compares with 0-5 gold labels.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa

from corpusmill.annotators.base import Annotator
from corpusmill.errors import ConfigError, InputNotFoundError

BATCH = 256


@dataclass(frozen=True)
class ClassScore:
    label: str
    support: int
    precision: float
    recall: float


@dataclass(frozen=True)
class Evaluation:
    column: str
    n: int
    accuracy: float
    classes: list[ClassScore]


def read_labels(path: str) -> tuple[list[str], list[str]]:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"labels file not found: {path}") from exc
    if rows and rows[0] == ["text", "label"]:
        rows = rows[1:]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != 2]
    if bad or not rows:
        raise ConfigError(f"{path}: need rows of text<TAB>label (bad rows: {bad[:5] or 'file is empty'})")
    return [r[0] for r in rows], [r[1] for r in rows]


def _as_label(value: object) -> str:
    if isinstance(value, float):
        return str(int(round(value)))
    return "" if value is None else str(value)


def evaluate(annotator: Annotator, texts: list[str], gold: list[str], column: str | None = None) -> Evaluation:
    column = column or annotator.columns.names[0]
    if column not in annotator.columns.names:
        raise ConfigError(f"{annotator.name} has no column {column!r}; it has {', '.join(annotator.columns.names)}")
    annotator.setup()
    preds: list[str] = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        batch = pa.table(
            {"id": [str(i) for i in range(start, start + len(chunk))], "text": pa.array(chunk, pa.large_string())}
        )
        preds.extend(_as_label(v) for v in annotator.label(batch).column(column).to_pylist())
    hits = Counter(g for p, g in zip(preds, gold) if p == g)
    pred_n, gold_n = Counter(preds), Counter(gold)
    classes = [
        ClassScore(
            label,
            gold_n[label],
            hits[label] / pred_n[label] if pred_n[label] else 0.0,
            hits[label] / gold_n[label] if gold_n[label] else 0.0,
        )
        for label in sorted(set(gold) | set(preds))
    ]
    return Evaluation(column, len(gold), sum(hits.values()) / len(gold), classes)
