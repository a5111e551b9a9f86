"""Train the close-pair models of `close_pairs` on SIB-200's train split.

A binary logistic regression per pair (L2, L-BFGS, deterministic), then the threshold
on the mean sentence score that best balances the two sides' accuracy over 5-sentence
windows of out-of-fold scores (folds grouped by sentence id, see `close_pairs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.sparse import csr_matrix

from corpusmill.annotators.langid.close_pairs import (
    BUCKETS,
    FOLDS,
    PAIRS,
    WINDOW,
    C,
    PairModel,
    featurize,
    read_markers,
)
from corpusmill.annotators.sib200 import read_language_with_ids


def _matrix(texts: list[str], pair: tuple[str, str]) -> csr_matrix:
    markers = {code: read_markers(code) for code in pair}
    rows, cols, values = [], [], []
    for i, text in enumerate(texts):
        vector = featurize(text, pair, markers)
        for key in sorted(vector):
            rows.append(i)
            cols.append(key)
            values.append(vector[key])
    return csr_matrix((values, (rows, cols)), shape=(len(texts), BUCKETS), dtype=np.float64)


def fit(x: csr_matrix, y: np.ndarray) -> tuple[np.ndarray, float]:
    """L2-regularized logistic regression; y in {0, 1}. Returns (weights, bias)."""
    sign = 2.0 * y - 1.0
    used = np.unique(x.indices)
    xs = x[:, used]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        margin = sign * (xs @ w + b)
        value = np.logaddexp(0.0, -margin).sum() + w @ w / (2.0 * C)
        slope = -sign / (1.0 + np.exp(margin))
        grad = np.concatenate([xs.T @ slope + w / C, [slope.sum()]])
        return value, grad

    result = minimize(loss, np.zeros(len(used) + 1), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    weights = np.zeros(x.shape[1])
    weights[used] = result.x[:-1]
    return weights, float(result.x[-1])


def _windows(scores: np.ndarray) -> np.ndarray:
    """Mean score of each cyclic window of WINDOW consecutive sentences."""
    n = len(scores)
    return np.array([scores[[(i + k) % n for k in range(WINDOW)]].mean() for i in range(n)])


def balanced_threshold(first: np.ndarray, second: np.ndarray) -> tuple[float, float, float]:
    """The threshold maximizing the worse side's accuracy (first: below, second: at or above)."""
    candidates = np.unique(np.concatenate([first, second]))
    best = (-1.0, 0.0, 0.0, 0.0)
    for t in candidates:
        a, b = float((first < t).mean()), float((second >= t).mean())
        if min(a, b) > best[0] or (min(a, b) == best[0] and abs(t) < abs(best[1])):
            best = (min(a, b), float(t), a, b)
    return best[1], best[2], best[3]


def train_pair(root: Path, pair: tuple[str, str]) -> tuple[PairModel, dict]:
    """The pair's model on all of train, thresholded by grouped cross-validation."""
    ids_a, texts_a = read_language_with_ids(root, pair[0], "train")
    ids_b, texts_b = read_language_with_ids(root, pair[1], "train")
    texts = texts_a + texts_b
    y = np.array([0] * len(texts_a) + [1] * len(texts_b), dtype=np.float64)
    groups = np.array(ids_a + ids_b)
    x = _matrix(texts, pair)
    fold_of = {gid: i % FOLDS for i, gid in enumerate(sorted(set(groups), key=int))}
    folds = np.array([fold_of[g] for g in groups])
    held_out = np.zeros(len(texts))
    for fold in range(FOLDS):
        train, test = folds != fold, folds == fold
        weights, bias = fit(x[train], y[train])
        held_out[test] = x[test] @ weights + bias
    threshold, acc_a, acc_b = balanced_threshold(_windows(held_out[y == 0]), _windows(held_out[y == 1]))
    weights, bias = fit(x, y)
    nonzero = np.flatnonzero(weights)
    model = PairModel(pair, nonzero.astype(np.int32), weights[nonzero].astype(np.float32), bias, threshold)
    report = {
        "labels": list(pair),
        "bias": bias,
        "threshold": threshold,
        "features": int(len(nonzero)),
        "cv_window_accuracy": {pair[0]: acc_a, pair[1]: acc_b},
    }
    return model, report


def train_all(root: Path, labels: list[str]) -> tuple[list[PairModel], list[dict]]:
    """Models for the pairs whose both labels the broad model knows."""
    models, reports = [], []
    for pair in PAIRS:
        if all(code in labels for code in pair):
            model, report = train_pair(root, pair)
            models.append(model)
            reports.append(report)
    return models, reports
