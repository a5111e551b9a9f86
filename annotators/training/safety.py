"""Rebuild the shipped safety student (`models/safety.ftz`, `safety.json`, `safety.md`).

    python -m corpusmill.annotators.training.safety --mirrors DIR --sib200 DIR [--out DIR]

Data: the human-labeled sets of `training.labeled_sets` plus neutral text (SIB-200 train
sentences in every language; Bible, law and novel passages), split 80/10/10 by group
(`public_data.split_of`), except the OpenAI moderation set, split 50/10/40 (`split`): it is
the only source of `sexual` and `self-harm`, and 10 % of it would leave ~20 sexual test texts. The fastText student is trained on train; a Platt calibration of
P(unsafe) is fitted on dev, and the threshold is the calibrated 0.5; test is scored once and
written into the card: precision/recall per category and per language, and the false-positive
rate on neutral text (`training.eval_sets` writes the same test rows for `corpusmill annotators
eval`). Single-threaded with fixed seeds: a rebuild is reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.safety import CALIBRATION, STUDENT_MODEL, calibrate
from corpusmill.annotators.training.labeled_sets import moderation_rows, neutral_rows, safety_rows
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
MODERATION = "openai/moderation-api-release"
# Sexual recall is reported where the false-positive rate on safe test text is at most this.
SEXUAL_MAX_FPR = 0.02
# The moderation set's train rows are repeated: its ~110 sexual and ~20 self-harm texts would
# otherwise be lost among ~85,000 hate and neutral rows (fastText has no class weights). How
# often is chosen on dev (`choose_repeat`).
MODERATION_REPEATS = (1, 5, 10, 20)
# A candidate may raise the neutral dev FPR (raw P(unsafe) >= 0.5) by at most this over no repeats.
MAX_NEUTRAL_FPR_RISE = 0.005


def split(row: Row) -> str:
    """train/dev/test of a row: 80/10/10 by group; the moderation set 50/10/40 by group."""
    if row.source != MODERATION:
        return split_of(row.group)
    b = int.from_bytes(hashlib.blake2b(row.group.encode(), digest_size=4).digest(), "big") % 10
    return "test" if b < 4 else "dev" if b == 4 else "train"


def build(mirrors: str, sib200: str, seed: int = 0) -> list[Row]:
    rows = [*safety_rows(mirrors), *moderation_rows(mirrors), *neutral_rows(sib200, seed)]
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
    toxic: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # hate/violence texts flagged, all of them
    cats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # hits, gold, predicted
    neutral = [0, 0]
    for r, (cat, p) in zip(rows, preds):
        flagged = p >= threshold
        if _neutral(r):
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
            if r.label in ("hate", "violence"):
                toxic[r.lang][0] += flagged
                toxic[r.lang][1] += 1
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
    # The target is toxic/hate recall: sexual and self-harm texts (English only) are left out.
    recalls = [v[0] / v[1] for v in toxic.values() if v[1]]
    return {
        "threshold": threshold,
        "mean_recall_over_languages": float(np.mean(recalls)),
        "toxic_recall_per_language": {k: v[0] / v[1] for k, v in sorted(toxic.items()) if v[1]},
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


def recall_at_fpr(
    rows: list[Row], p_category: Sequence[float], category: str, max_fpr: float
) -> dict[str, float | int | None]:
    """Recall of `category` at the lowest P(category) cut whose FPR on safe test rows is <= `max_fpr`.

    Negatives are every `safe` test row (neutral text and the sets' own hard negatives);
    positives the rows labeled `category`. The cut is chosen on test, so this is the best
    operating point the scores allow, not the shipped threshold (reported separately).
    """
    pos = sorted((p for r, p in zip(rows, p_category) if r.label == category), reverse=True)
    neg = sorted((p for r, p in zip(rows, p_category) if r.label == "safe"), reverse=True)
    if not pos or not neg:
        return {"recall": None, "fpr": None, "cut": None, "positives": len(pos), "negatives": len(neg)}
    allowed = int(max_fpr * len(neg))  # false positives allowed
    cut = neg[allowed] if allowed < len(neg) else 0.0  # flag strictly above the first disallowed negative
    hits = sum(p > cut for p in pos)
    fps = sum(p > cut for p in neg)
    return {
        "recall": hits / len(pos),
        "fpr": fps / len(neg),
        "cut": float(cut),
        "positives": len(pos),
        "negatives": len(neg),
    }


def _train(rows: list[Row], repeat: int, path: str) -> None:
    train = [r for r in rows for _ in range(repeat if r.source == MODERATION else 1)]
    random.Random(0).shuffle(train)
    fasttext_model.train([r.text for r in train], [r.label for r in train], path, PARAMS)


def _dev_figures(dev: list[Row], probs: list[list[tuple[str, float]]]) -> dict[str, Any]:
    """Per unsafe category: share of its dev texts whose top class is that category and P(unsafe) >= 0.5
    (uncalibrated); and the share of neutral dev texts with P(unsafe) >= 0.5."""
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    neutral = [0, 0]
    for r, ps in zip(dev, probs):
        d = dict(ps)
        flagged = 1.0 - d.get("safe", 0.0) >= 0.5
        if _neutral(r):
            neutral[0] += flagged
            neutral[1] += 1
        elif r.label != "safe":
            top = max((p, c) for c, p in d.items() if c != "safe")[1] if len(d) > 1 else ""
            hits[r.label][0] += flagged and top == r.label
            hits[r.label][1] += 1
    recall = {k: v[0] / v[1] for k, v in sorted(hits.items()) if v[1]}
    return {
        "recall": recall,
        "macro_recall": float(np.mean(list(recall.values()))),
        "neutral_fpr": neutral[0] / max(1, neutral[1]),
    }


def choose_repeat(train: list[Row], dev: list[Row], path: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """Train one student per `MODERATION_REPEATS`; keep at `path` the one with the best dev recall
    averaged over the unsafe categories, among those whose neutral dev FPR is at most
    `MAX_NEUTRAL_FPR_RISE` above the first candidate's (ties: the fewer repeats). Returns it and every candidate's dev figures.

    Not sexual recall at FPR <= 0.02: on dev's ~20 sexual texts every candidate reaches 1.0.
    """
    figures: dict[str, dict[str, Any]] = {}
    best: tuple[float, int] | None = None
    for repeat in MODERATION_REPEATS:
        candidate = f"{path}.repeat{repeat}"
        _train(train, repeat, candidate)
        fig = _dev_figures(dev, fasttext_model.predict(fasttext_model.load(candidate), [r.text for r in dev], k=-1))
        figures[str(repeat)] = fig
        print(f"moderation repeat {repeat}: dev {fig}", flush=True)
        base = figures[str(MODERATION_REPEATS[0])]["neutral_fpr"]
        ok = fig["neutral_fpr"] <= base + MAX_NEUTRAL_FPR_RISE
        if ok and (best is None or fig["macro_recall"] > best[0]):
            if best is not None:
                os.remove(f"{path}.repeat{best[1]}")
            best = (fig["macro_recall"], repeat)
        else:
            os.remove(candidate)
    assert best is not None
    os.replace(f"{path}.repeat{best[1]}", path)
    return best[1], figures


def annotator_figures(rows: list[Row], models_dir: str) -> dict[str, Any]:
    """What the shipped `Safety` annotator (student + language-scoped lexicon + URL list) says on test.

    Per gold category: the share labeled `unsafe:<that category>` and the share labeled unsafe at
    all; for safe rows, the share labeled unsafe (neutral text and the sets' own safe items apart).
    """
    import pyarrow as pa

    from corpusmill.annotators.safety import Safety

    annotator = Safety(models_dir=models_dir)
    table = pa.table({"text": [r.text for r in rows], "lang": [r.lang for r in rows]})
    labels = annotator.label(table).column("safety").to_pylist()
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # same category, any unsafe, n
    for r, lab in zip(rows, labels):
        key = r.label if r.label != "safe" else "safe (neutral)" if _neutral(r) else "safe (sets)"
        by[key][0] += lab == f"unsafe:{r.label}"
        by[key][1] += lab != "safe"
        by[key][2] += 1
    return {k: {"same": v[0] / v[2], "unsafe": v[1] / v[2], "n": v[2]} for k, v in sorted(by.items())}


def _neutral(r: Row) -> bool:
    return r.source in NEUTRAL_SOURCES or r.source.startswith("GITenberg/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", required=True)
    parser.add_argument("--sib200", required=True)
    parser.add_argument("--out", default=MODELS_DIR)
    parser.add_argument(
        "--compare",
        default=None,
        metavar="DIR",
        help="a folder with an earlier safety.ftz/safety.json: its annotator figures on the same test rows go into the card",
    )
    args = parser.parse_args(argv)
    rows = build(args.mirrors, args.sib200)
    split_rows = {s: [r for r in rows if split(r) == s] for s in ("train", "dev", "test")}
    print(f"safety data: {len(rows)} rows; " + ", ".join(f"{k}={len(v)}" for k, v in split_rows.items()))
    path = os.path.join(args.out, STUDENT_MODEL)
    repeat, dev_choice = choose_repeat(split_rows["train"], split_rows["dev"], path)
    fasttext_model.record_checksum(path)
    model = fasttext_model.load(path)
    dev = unsafe_probs(model, [r.text for r in split_rows["dev"]])
    a, b = fit_platt(np.array([p for _, p in dev]), np.array([r.label != "safe" for r in split_rows["dev"]], float))
    test_rows = split_rows["test"]
    test = [(c, calibrate(p, a, b)) for c, p in unsafe_probs(model, [r.text for r in test_rows])]
    p_sexual = [dict(ps).get("sexual", 0.0) for ps in fasttext_model.predict(model, [r.text for r in test_rows], k=-1)]
    metrics: dict[str, Any] = {
        "platt_a": a,
        "platt_b": b,
        "threshold": 0.5,
        "params": PARAMS.__dict__,
        "moderation_repeat": repeat,
        "dev_choice": dev_choice,
        "counts": {s: dict(Counter(r.label for r in v)) for s, v in split_rows.items()},
        "sources": {r: SOURCES[r].license for r in sorted({r.source for r in rows}) if r in SOURCES},
        "test": score(test_rows, test, 0.5),
        "sexual_at_fpr": recall_at_fpr(test_rows, p_sexual, "sexual", SEXUAL_MAX_FPR),
    }
    with open(os.path.join(args.out, CALIBRATION), "w", encoding="utf-8") as fh:
        json.dump(metrics, fh, indent=1, sort_keys=True)
    # After the calibration is written: the annotator reads it from `args.out`.
    metrics["annotator"] = annotator_figures(test_rows, args.out)
    if args.compare:
        metrics["annotator_before"] = annotator_figures(test_rows, args.compare)
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
