"""Score any annotator against a TSV of `text<TAB>label[<TAB>lang]`: accuracy, per-class
precision/recall and, when a `lang` column is given, accuracy per language (the language is
also passed to the annotator, as the `lang` column of the annotate job would be).

The compared column is the annotator's first column unless named (`lang` for lang_id,
`domain`, `safety`, `edu_score`...); numeric labels are rounded to integers first, so
`edu_score` compares with 0-5 gold labels.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field

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
    by_lang: dict[str, tuple[int, float]] = field(default_factory=dict)  # lang -> (n, accuracy)


def read_labels(path: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of a `text<TAB>label` file (a `lang` column, if any, is ignored)."""
    texts, gold, _ = read_labeled(path)
    return texts, gold


def read_labeled(path: str) -> tuple[list[str], list[str], list[str] | None]:
    """(texts, labels, languages or None) of a `text<TAB>label[<TAB>lang]` file."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r]
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"labels file not found: {path}") from exc
    if rows and rows[0][:2] == ["text", "label"]:
        rows = rows[1:]
    width = len(rows[0]) if rows else 0
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != width]
    if bad or width not in (2, 3):
        raise ConfigError(f"{path}: need rows of text<TAB>label[<TAB>lang] (bad rows: {bad[:5] or 'file is empty'})")
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows] if width == 3 else None


def _as_label(value: object) -> str:
    if isinstance(value, float):
        return str(int(round(value)))
    return "" if value is None else str(value)


def evaluate(
    annotator: Annotator, texts: list[str], gold: list[str], column: str | None = None, langs: list[str] | None = None
) -> Evaluation:
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
        if langs is not None:
            batch = batch.append_column("lang", pa.array(langs[start : start + len(chunk)], pa.string()))
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
    by_lang: dict[str, list[int]] = {}
    for p, g, lang in zip(preds, gold, langs or []):
        n_ok = by_lang.setdefault(lang, [0, 0])
        n_ok[0] += 1
        n_ok[1] += p == g
    per_lang = {k: (n, ok / n) for k, (n, ok) in sorted(by_lang.items())}
    return Evaluation(column, len(gold), sum(hits.values()) / len(gold), classes, per_lang)
