"""Rebuild the shipped edu student (`models/edu.ftz`, `edu.md`) from public LLM annotations.

    python -m corpusmill.annotators.training.edu --mirrors DIR [--labels FILE.tsv] [--out DIR]

Labels: the FineWeb-Edu-style 0-5 scores of `training.labeled_sets.edu_rows` (pinned public
repository), or, with `--labels`, any `text<TAB>score` file (e.g. an export of the
FineWeb-Edu Llama-3 annotations). A seeded 30 % of texts (grouped by normalized text) is held
out; the card reports Spearman of the expected score against the held-out labels.
"""

from __future__ import annotations

import argparse
import os
import random
from collections import Counter

import numpy as np

from corpusmill.annotators import fasttext_model
from corpusmill.annotators.edu import STUDENT_MODEL, below_floor, edu_heuristic, expected_score
from corpusmill.annotators.evaluate import read_labels
from corpusmill.annotators.training.labeled_sets import edu_rows
from corpusmill.annotators.training.public_data import Row, text_key
from corpusmill.annotators.training.students import spearman

MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models")
# Small, noisy label sets: a low learning rate and few dimensions keep fastText stable.
PARAMS = fasttext_model.TrainParams(epoch=25, lr=0.1, dim=16, word_ngrams=1, minn=2, maxn=4, bucket=20_000)
TEST_SHARE = 0.3


def _is_test(group: str) -> bool:
    return random.Random(group).random() < TEST_SHARE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", default=None, help="git copies of the sources in training.public_data")
    parser.add_argument("--labels", default=None, metavar="FILE.tsv", help="text<TAB>score rows instead")
    parser.add_argument("--out", default=MODELS_DIR)
    args = parser.parse_args(argv)
    if args.labels:
        texts, scores = read_labels(args.labels)
        rows = [Row(text_key(t), s, "und", args.labels, t) for t, s in zip(texts, scores)]
        sources, labeler = [], f"from {args.labels}"
    else:
        rows = list(edu_rows(args.mirrors))
        sources = ["Mohamed-Elsafty23/fineweb-edu-scorer"]
        labeler = "Llama-3.3-70B-Instruct with the FineWeb-Edu additive 0-5 prompt (as recorded by the source)"
    train = [r for r in rows if not _is_test(r.group)]
    test = [r for r in rows if _is_test(r.group)]
    path = os.path.join(args.out, STUDENT_MODEL)
    params = PARAMS if len(train) >= 5000 else fasttext_model.TrainParams(**{**PARAMS.__dict__, "quantize": False})
    fasttext_model.train([r.text for r in train], [r.label for r in train], path, params)
    fasttext_model.record_checksum(path)
    model = fasttext_model.load(path)
    preds = [expected_score(p) for p in fasttext_model.predict(model, [r.text for r in test], k=6)]
    rho = spearman(np.array(preds), np.array([float(r.label) for r in test]))
    rho_heuristic = spearman(np.array([edu_heuristic(r.text) for r in test]), np.array([float(r.label) for r in test]))
    floored = sum(below_floor(r.text) for r in rows)
    metrics = {
        "test_spearman": float(rho),
        "n_test": len(test),
        "n_train": len(train),
        "params": params.__dict__,
        "counts": dict(sorted(Counter(r.label for r in rows).items())),
        "sources": sources,
        "labeler": labeler,
        "floor_note": f"{floored} of {len(rows)} labeled pages fall under the floor",
        "heuristic_spearman": float(rho_heuristic),
    }
    from corpusmill.annotators.training.cards import write_edu_card

    write_edu_card(os.path.join(args.out, "edu.md"), metrics)
    print(f"wrote {path}; held-out Spearman {rho:.3f} (n={len(test)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
