"""From proxy results to a mixture: regressions weights -> loss, picked by CV rank correlation, then a simplex search.

As RegMix (Liu et al., 2024): a LightGBM regressor over the mixture weights, next to two
simple models (ridge on the weights, ridge on log-weights); each is scored by the Spearman
correlation of its out-of-fold predictions with the observed losses, and the best one scores
many candidate mixtures drawn inside the user's bounds. The chosen mixture is the mean of the
best `top` candidates: the mean of points inside a convex set (the simplex cut by per-bucket
bounds) stays inside it, and averaging smooths the regression's noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from corpusmill.errors import ConfigError

RIDGE = 1e-3
LOG_FLOOR = 1e-4


def rank(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman's correlation needs."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2
        i = j + 1
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = rank(np.asarray(a, float)), rank(np.asarray(b, float))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = float(np.sqrt((ra**2).sum() * (rb**2).sum()))
    return float((ra * rb).sum() / den) if den > 0 else 0.0


def project(w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Euclidean projection of rows of `w` onto {x : sum x = 1, lo <= x <= hi} (bisection on the shift)."""
    w = np.atleast_2d(w)
    a = np.min(w - hi, axis=1, keepdims=True) - 1.0
    b = np.max(w - lo, axis=1, keepdims=True) + 1.0
    for _ in range(100):
        mid = (a + b) / 2
        too_big = np.clip(w - mid, lo, hi).sum(axis=1, keepdims=True) > 1
        a, b = np.where(too_big, mid, a), np.where(too_big, b, mid)
    x = np.clip(w - (a + b) / 2, lo, hi)
    return x / x.sum(axis=1, keepdims=True)


def draw_mixtures(
    prior: np.ndarray, n: int, *, seed: int, concentration: float, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """`n` mixtures from Dirichlet(concentration * n_buckets * prior), moved inside the bounds."""
    rng = np.random.default_rng(seed)
    alpha = np.maximum(concentration * len(prior) * prior, 1e-3)
    return project(rng.dirichlet(alpha, size=n), lo, hi)


class _Ridge:
    def __init__(self, log: bool) -> None:
        self.log = log

    def _x(self, w: np.ndarray) -> np.ndarray:
        x = np.log(np.maximum(w, LOG_FLOOR)) if self.log else w
        return np.hstack([np.ones((len(x), 1)), x])

    def fit(self, w: np.ndarray, y: np.ndarray) -> _Ridge:
        x = self._x(w)
        reg = RIDGE * np.eye(x.shape[1])
        reg[0, 0] = 0.0  # the intercept is not shrunk
        self.coef = np.linalg.solve(x.T @ x + reg, x.T @ y)
        return self

    def predict(self, w: np.ndarray) -> np.ndarray:
        return self._x(w) @ self.coef


class _LightGBM:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def fit(self, w: np.ndarray, y: np.ndarray) -> _LightGBM:
        import lightgbm

        # RegMix's regressor through LightGBM's own API (no scikit-learn), made deterministic
        # (one thread, fixed seed) and sized for tens of rows.
        params = {
            "objective": "regression",
            "learning_rate": 0.05,
            "num_leaves": 8,
            "min_data_in_leaf": 2,
            "min_data_in_bin": 1,
            "lambda_l2": 1e-3,
            "seed": self.seed,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }
        data = lightgbm.Dataset(w, y, params={"min_data_in_bin": 1, "verbosity": -1})
        self.model = lightgbm.train(params, data, num_boost_round=200)
        return self

    def predict(self, w: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(w), dtype=np.float64)


def make_model(name: str, seed: int) -> Any:
    if name == "linear":
        return _Ridge(log=False)
    if name == "loglinear":
        return _Ridge(log=True)
    if name == "lightgbm":
        return _LightGBM(seed)
    raise ConfigError(f"unknown fit model {name!r}")


def cv_predictions(name: str, w: np.ndarray, y: np.ndarray, *, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold predictions: every row predicted by a model that never saw it."""
    k = min(folds, len(y))
    fold_of = np.random.default_rng(seed).permutation(len(y)) % k
    pred = np.empty(len(y))
    for f in range(k):
        test = fold_of == f
        pred[test] = make_model(name, seed).fit(w[~test], y[~test]).predict(w[test])
    return pred


@dataclass(frozen=True)
class Choice:
    model: str
    cv_spearman: dict[str, float]  # per candidate model
    weights: list[float]
    predicted_loss: float
    prior_predicted_loss: float
    observed_predicted: list[float]  # out-of-fold prediction of each proxy, for the report


def choose(
    w: np.ndarray,
    y: np.ndarray,
    *,
    prior: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    models: tuple[str, ...],
    folds: int,
    candidates: int,
    top: int,
    seed: int,
    concentration: float,
) -> Choice:
    """Pick the model with the best CV Spearman, then the mean of the `top` best candidate mixtures."""
    if len(y) < 4:
        raise ConfigError(f"only {len(y)} proxies finished; the fit needs at least 4")
    scores, oof = {}, {}
    for name in models:
        oof[name] = cv_predictions(name, w, y, folds=folds, seed=seed)
        scores[name] = round(spearman(oof[name], y), 6)
    best = max(models, key=lambda m: (scores[m], -models.index(m)))
    model = make_model(best, seed).fit(w, y)
    # Candidates spread wider than the proxies (lower concentration) so the search can leave their hull.
    cand = draw_mixtures(prior, candidates, seed=seed + 1, concentration=concentration / 2, lo=lo, hi=hi)
    cand = np.vstack([cand, w, prior[None, :]])
    pred = model.predict(cand)
    order = np.lexsort((np.arange(len(pred)), pred))[: min(top, len(pred))]
    chosen = project(cand[order].mean(axis=0), lo, hi)[0]
    return Choice(
        model=best,
        cv_spearman=scores,
        weights=[float(x) for x in chosen],
        predicted_loss=float(model.predict(chosen[None, :])[0]),
        prior_predicted_loss=float(model.predict(prior[None, :])[0]),
        observed_predicted=[float(x) for x in oof[best]],
    )
