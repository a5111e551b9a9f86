"""Rebuild the shipped safety student (`models/safety.ftz`, `safety.json`, `safety.md`).

    python -m corpusmill.annotators.training.safety --mirrors DIR --sib200 DIR [--out DIR]

Data: the human-labeled sets of `training.labeled_sets` plus neutral text (SIB-200 train
sentences in every language; Bible, law and novel passages), split 80/10/10 by group
(`public_data.split_of`). The fastText student is trained on train; a Platt calibration of
P(unsafe) is fitted on dev, and the threshold is the calibrated 0.5; test is scored once and
written into the card: precision/recall per category and per language, and the false-positive
rate on neutral text (`training.eval_sets` writes the same test rows for `corpusmill annotators
eval`). Single-threaded with fixed seeds: a rebuild is reproducible.
"""

from __future__ import annotations

import argparse
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.safety import CALIBRATION, STUDENT_MODEL, calibrate
from corpusmill.annotators.training.labeled_sets import neutral_rows, safety_rows
from corpusmill.annotators.training.public_data import SOURCES, Row, domain_rows, split_of

MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models")
PARAMS = fasttext_model.TrainParams(epoch=10, lr=0.3, dim=32, word_ngrams=2, minn=2, maxn=4, bucket=200_000)
# Text labeled safe by provenance (neutral), as opposed to the safety sets' own "safe" items.
NEUTRAL_SOURCES = (
    "dadelani/sib-200 (train)",
    "christos-c/bible-corpus",
    "bundestag/gesetze",
    "steeve/france.code-civil",
)
PASSAGES_PER_LANGUAGE = 150


def build(mirrors: str, sib200: str, seed: int = 0) -> list[Row]:
    rows = [*safety_rows(mirrors), *neutral_rows(sib200, seed)]
    extra = list(domain_rows(mirrors))
    random.Random(seed).shuffle(extra)
    taken: Counter[tuple[str, str]] = Counter()
    for r in extra:  # religion, law and novels are safe too, whatever their violence or sex
        if taken[(r.label, r.lang)] < PASSAGES_PER_LANGUAGE:
            taken[(r.label, r.lang)] += 1
            rows.append(Row(r.group, "safe", r.lang, r.source, r.text))
    return rows


def unsafe_probs(model: object, texts: Sequence[str]) -> list[tuple[str, float]]:
    """(most likely unsafe category, raw P(unsafe)) per text."""
    out = []
    for probs in fasttext_model.predict(model, texts, k=-1):
        d = dict(probs)
        unsafe = [(p, c) for c, p in d.items() if c != "safe"]
        out.append((max(unsafe)[1] if unsafe else "hate", 1.0 - d.get("safe", 0.0)))
    return out


def fit_platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """a, b of sigmoid(a * logit(p) + b) minimizing the log loss over a fixed grid.

    A grid, not Newton's method: a quantized model gives many probabilities of exactly 0 or 1,
    which make the data nearly separable and send an unregularized fit to infinity.
    """
    x = np.log(np.clip(p, 1e-4, 1 - 1e-4) / (1 - np.clip(p, 1e-4, 1 - 1e-4)))
    best = (np.inf, 1.0, 0.0)
    for a in np.linspace(0.1, 3.0, 59):
        for b in np.linspace(-4.0, 4.0, 81):
            q = np.clip(1 / (1 + np.exp(-(a * x + b))), 1e-9, 1 - 1e-9)
            loss = -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))
            if loss < best[0]:
                best = (loss, float(a), float(b))
    return best[1], best[2]


def score(rows: list[Row], preds: list[tuple[str, float]], threshold: float) -> dict[str, object]:
    """Per-language recall/FPR, per-category precision/recall, neutral-text FPR."""
    langs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp, positives, fp, negatives
    cats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # hits, gold, predicted
    neutral = [0, 0]
    for r, (cat, p) in zip(rows, preds):
        flagged = p >= threshold
        if r.source in NEUTRAL_SOURCES or r.source.startswith("GITenberg/"):
            neutral[0] += flagged
            neutral[1] += 1
            continue
        c = langs[r.lang]
        if r.label == "safe":
            c[2] += flagged
            c[3] += 1
        else:
            c[0] += flagged
            c[1] += 1
            cats[r.label][1] += 1
            cats[r.label][0] += flagged and cat == r.label
        if flagged:
            cats[cat][2] += 1
    per_lang = {
        k: {
            "recall": v[0] / v[1] if v[1] else None,
            "positives": v[1],
            "fpr": v[2] / v[3] if v[3] else None,
            "negatives": v[3],
        }
        for k, v in sorted(langs.items())
    }
    recalls = [v["recall"] for v in per_lang.values() if v["recall"] is not None]
    return {
        "threshold": threshold,
        "mean_recall_over_languages": float(np.mean(recalls)),
        "neutral_fpr": neutral[0] / max(1, neutral[1]),
        "neutral_n": neutral[1],
        "per_language": per_lang,
        "per_category": {
            k: {
                "recall": v[0] / v[1] if v[1] else None,
                "gold": v[1],
                "precision": v[0] / v[2] if v[2] else None,
                "predicted": v[2],
            }
            for k, v in sorted(cats.items())
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", required=True)
    parser.add_argument("--sib200", required=True)
    parser.add_argument("--out", default=MODELS_DIR)
    args = parser.parse_args(argv)
    rows = build(args.mirrors, args.sib200)
    split = {s: [r for r in rows if split_of(r.group) == s] for s in ("train", "dev", "test")}
    print(f"safety data: {len(rows)} rows; " + ", ".join(f"{k}={len(v)}" for k, v in split.items()))
    train = split["train"][:]
    random.Random(0).shuffle(train)
    path = os.path.join(args.out, STUDENT_MODEL)
    fasttext_model.train([r.text for r in train], [r.label for r in train], path, PARAMS)
    fasttext_model.record_checksum(path)
    model = fasttext_model.load(path)
    dev = unsafe_probs(model, [r.text for r in split["dev"]])
    a, b = fit_platt(np.array([p for _, p in dev]), np.array([r.label != "safe" for r in split["dev"]], float))
    test = [(c, calibrate(p, a, b)) for c, p in unsafe_probs(model, [r.text for r in split["test"]])]
    metrics: dict[str, Any] = {
        "platt_a": a,
        "platt_b": b,
        "threshold": 0.5,
        "params": PARAMS.__dict__,
        "counts": {s: dict(Counter(r.label for r in v)) for s, v in split.items()},
        "sources": {r: SOURCES[r].license for r in sorted({r.source for r in rows}) if r in SOURCES},
        "test": score(split["test"], test, 0.5),
    }
    with open(os.path.join(args.out, CALIBRATION), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=1, sort_keys=True)
    from corpusmill.annotators.training.cards import write_safety_card

    write_safety_card(os.path.join(args.out, "safety.md"), metrics)
    t = metrics["test"]
    print(
        f"wrote {path}; test mean recall over languages {t['mean_recall_over_languages']:.3f}, "
        f"neutral FPR {t['neutral_fpr']:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
