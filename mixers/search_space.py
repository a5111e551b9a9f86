"""SPACE.yaml of `corpusmill mix search`: the stage, the buckets, the prior, the targets, the proxy.

```yaml
name: s1-search
seed: 0                      # Dirichlet draws, sampler seed of the proxies, model init
proxies: 16                  # K random mixtures (+ the prior); --proxies overrides
concentration: 1.0           # Dirichlet(concentration * n_buckets * prior): lower = wider spread
first_match: false           # true: a document goes to the first bucket whose condition holds
stage:
  name: s1
  seq_len: 512               # proxy context length, and the stage's in recipe.yaml
  proxy_tokens: 1M           # training tokens per proxy
  budget_tokens: 30T         # the real stage budget written into recipe.yaml (default proxy_tokens)
  where: "safety = 'safe'"
gates: default               # quality gates as in a recipe (default: the shipped five; `off`: none)
dedup: when_present          # as in a recipe: with --dedup DUP_DIR the proxies see one document per cluster
buckets:                     # recipe syntax; min_share / max_share bound the search
  - {name: en, where: "lang = 'en'", max_repeats: 2, weight: edu_score, max_share: 0.8}
  - {name: code, where: "domain = 'code'", min_share: 0.05}
prior: natural               # or {en: 0.7, code: 0.3}
targets:
  - {name: dev, jsonl: dev.jsonl, weight: 1.0}       # {"text": ...} per line
  - {name: mine, docs: my_docs/, weight: 0.5}        # a documents folder (*.parquet) or *.txt files
  - {name: german, where: "lang = 'de'", weight: 1}  # held out of training by id
model: {d_model: 128, n_layers: 5, n_heads: 4, vocab_size: 8192, batch_size: 16}
fit: {folds: 5, candidates: 20000, top: 100}
```
Loaded once into frozen dataclasses; every error is one line, raised before any proxy trains.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.mixers.gates import DEFAULT_GATES, Gate, gates_from_dict
from corpusmill.mixers.proxy_model import ProxyConfig
from corpusmill.mixers.recipe import (
    DEDUP_OFF,
    DEDUP_REQUIRED,
    DEDUP_WHEN_PRESENT,
    Bucket,
    Recipe,
    Stage,
    _int,
)

PRIOR_NATURAL = "natural"
MIN_SHARE_FLOOR = 1e-3  # every bucket keeps at least this share: a recipe share must be > 0


@dataclass(frozen=True)
class SearchBucket:
    bucket: Bucket  # name, where, weight, max_repeats as in a recipe (share is chosen by the search)
    min_share: float = MIN_SHARE_FLOOR
    max_share: float = 1.0

    def __post_init__(self) -> None:
        b = self.bucket
        for key in ("min_share", "max_share"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v <= 1):
                raise ConfigError(f"bucket {b.name}: {key} must be a number in [0, 1], got {v!r}")
        if self.min_share > self.max_share:
            raise ConfigError(f"bucket {b.name}: min_share {self.min_share} > max_share {self.max_share}")
        if self.max_share < MIN_SHARE_FLOOR:
            raise ConfigError(f"bucket {b.name}: max_share must be >= {MIN_SHARE_FLOOR} (drop the bucket instead)")


@dataclass(frozen=True)
class Target:
    name: str
    weight: float = 1.0
    where: str | None = None  # SQL over the corpus view: held out of training
    jsonl: str | None = None  # {"text": ...} per line
    docs: str | None = None  # a folder of *.parquet documents or *.txt files

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"target name {self.name!r}: use letters, digits, '_' or '-'")
        given = [k for k in ("where", "jsonl", "docs") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ConfigError(f"target {self.name}: give exactly one of where, jsonl, docs (got {given or 'none'})")
        if (
            isinstance(self.weight, bool)
            or not isinstance(self.weight, (int, float))
            or not (self.weight > 0 and math.isfinite(self.weight))
        ):
            raise ConfigError(f"target {self.name}: weight must be a number > 0, got {self.weight!r}")
        for key in ("jsonl", "docs"):
            path = getattr(self, key)
            if path is not None and "://" not in path and not os.path.exists(path):
                raise InputNotFoundError(f"target {self.name}: {key} {path} not found")

    @property
    def kind(self) -> str:
        return "where" if self.where is not None else "jsonl" if self.jsonl is not None else "docs"


@dataclass(frozen=True)
class FitConfig:
    folds: int = 5
    candidates: int = 20000  # mixtures scored by the fitted model in the simplex search
    top: int = 100  # the chosen mixture is the mean of the best `top` candidates (RegMix)
    models: tuple[str, ...] = ("lightgbm", "linear", "loglinear")

    def __post_init__(self) -> None:
        for key in ("folds", "candidates", "top"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < (2 if key == "folds" else 1):
                raise ConfigError(f"fit: {key} must be an integer >= {2 if key == 'folds' else 1}, got {v!r}")
        unknown = set(self.models) - {"lightgbm", "linear", "loglinear"}
        if unknown or not self.models:
            raise ConfigError(
                f"fit: models must be a non-empty subset of lightgbm, linear, loglinear; got {list(self.models)}"
            )


@dataclass(frozen=True)
class Space:
    stage: Stage  # seq_len, budget_tokens = the real stage budget, where, seed; buckets with the prior as shares
    buckets: tuple[SearchBucket, ...]
    targets: tuple[Target, ...]
    proxy_tokens: int
    prior: str | tuple[float, ...] = PRIOR_NATURAL
    proxies: int = 16
    seed: int = 0
    concentration: float = 1.0
    first_match: bool = False
    model: ProxyConfig = field(default_factory=ProxyConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    name: str = "search"
    # The proxies train on what `mix` would keep, and the written recipe carries the same gates.
    gates: tuple[Gate, ...] = tuple(Gate(n, w) for n, w in DEFAULT_GATES.items())
    dedup: str = DEDUP_WHEN_PRESENT  # written into the recipe, so `mix --dedup` keeps what the proxies saw
    dedup_sidecar: bool = False  # set by the run, not the YAML: a near-duplicate sidecar is joined

    def __post_init__(self) -> None:
        if self.dedup not in (DEDUP_OFF, DEDUP_WHEN_PRESENT, DEDUP_REQUIRED):
            raise ConfigError(f"dedup must be {DEDUP_OFF!r}, {DEDUP_WHEN_PRESENT!r} or {DEDUP_REQUIRED!r}")
        if isinstance(self.proxies, bool) or not isinstance(self.proxies, int) or self.proxies < 2:
            raise ConfigError(f"proxies must be an integer >= 2, got {self.proxies!r}")
        if not (isinstance(self.concentration, (int, float)) and self.concentration > 0):
            raise ConfigError(f"concentration must be > 0, got {self.concentration!r}")
        if not self.targets:
            raise ConfigError("a search needs at least one target")
        step = self.stage.seq_len * self.model.batch_size
        if self.proxy_tokens < step:
            raise ConfigError(
                f"proxy_tokens {self.proxy_tokens:,} is less than one training step (seq_len x batch_size = {step:,})"
            )
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ConfigError(f"target names repeat: {names}")
        lo = sum(b.min_share for b in self.buckets)
        hi = sum(b.max_share for b in self.buckets)
        if lo > 1 + 1e-9 or hi < 1 - 1e-9:
            raise ConfigError(f"bucket bounds cannot sum to 1: min_share sum {lo:.4f}, max_share sum {hi:.4f}")
        if isinstance(self.prior, tuple):
            self.check_shares(self.prior, "prior")

    @property
    def bucket_names(self) -> list[str]:
        return [b.bucket.name for b in self.buckets]

    def check_shares(self, shares: tuple[float, ...], what: str) -> None:
        if abs(sum(shares) - 1) > 1e-6:
            raise ConfigError(f"{what}: shares sum to {sum(shares):.6f}, not 1")
        for b, s in zip(self.buckets, shares):
            if not (b.min_share - 1e-9 <= s <= b.max_share + 1e-9):
                raise ConfigError(
                    f"{what}: bucket {b.bucket.name} share {s:.4f} is outside [{b.min_share}, {b.max_share}]"
                )

    def with_dedup_sidecar(self, present: bool) -> Space:
        """The space as it runs with (or without) a `corpusmill dedup` sidecar joined to the corpus;
        a space that requires the sidecar stops here without one (the recipe's own check)."""
        self.recipe([1 / len(self.buckets)] * len(self.buckets)).with_dedup(present)
        return dataclasses.replace(self, dedup_sidecar=present)

    def recipe(self, shares: list[float], budget_tokens: int | None = None) -> Recipe:
        """recipe.yaml: one stage with these shares (targets given as SQL excluded by condition),
        the space's gates and its `dedup:` key, which `mix --dedup` applies."""
        held = [f"coalesce(({t.where}), FALSE)" for t in self.targets if t.where is not None]
        where = self.stage.where if not held else f"({self.stage.where}) AND NOT ({' OR '.join(held)})"
        buckets = tuple(dataclasses.replace(b.bucket, share=float(s)) for b, s in zip(self.buckets, shares))
        stage = dataclasses.replace(
            self.stage, where=where, buckets=buckets, budget_tokens=budget_tokens or self.stage.budget_tokens
        )
        return Recipe(stages=(stage,), name=self.name, gates=self.gates, dedup=self.dedup)

    def training_recipe(self, shares: list[float], budget_tokens: int | None = None) -> Recipe:
        """The recipe as `mix` would run it on this corpus: what the proxies sample from."""
        return self.recipe(shares, budget_tokens).with_dedup(self.dedup_sidecar)[0]

    def training_stage(self, shares: list[float], budget_tokens: int) -> Stage:
        return self.training_recipe(shares, budget_tokens).stages[0]


_SPACE_KEYS = {
    "name",
    "seed",
    "proxies",
    "concentration",
    "first_match",
    "stage",
    "buckets",
    "prior",
    "targets",
    "model",
    "fit",
    "gates",
    "dedup",
}
_STAGE_KEYS = {
    "name",
    "seq_len",
    "proxy_tokens",
    "budget_tokens",
    "where",
    "seed",
    "packing",
    "long_documents",
    "shard_tokens",
}


def _mapping(d: Any, allowed: set[str], what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ConfigError(f"{what} must be a mapping, got {type(d).__name__}")
    unknown = set(d) - allowed
    if unknown:
        raise ConfigError(f"{what}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return dict(d)


def _build(cls: Any, d: dict[str, Any], what: str) -> Any:
    try:
        return cls(**d)
    except TypeError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def space_from_dict(d: Any) -> Space:
    d = _mapping(d, _SPACE_KEYS, "space")
    st = _mapping(d.pop("stage", None), _STAGE_KEYS, "stage")
    for key in ("seq_len", "proxy_tokens", "budget_tokens", "seed", "shard_tokens"):
        if key in st:
            st[key] = _int(st[key], f"stage: {key}")
    proxy_tokens = st.pop("proxy_tokens", None)
    if isinstance(proxy_tokens, bool) or not isinstance(proxy_tokens, int) or proxy_tokens < 1:
        raise ConfigError(f"stage: proxy_tokens must be a positive integer, got {proxy_tokens!r}")
    st.setdefault("budget_tokens", proxy_tokens)
    st.setdefault("name", "stage")
    raw_buckets = d.pop("buckets", None)
    if not isinstance(raw_buckets, list) or not raw_buckets:
        raise ConfigError("space: `buckets` must be a non-empty list")
    bucket_keys = {f.name for f in dataclasses.fields(Bucket)} - {"share"} | {"min_share", "max_share"}
    buckets = []
    for raw in raw_buckets:
        b = _mapping(raw, bucket_keys, f"bucket {raw.get('name') if isinstance(raw, dict) else raw!r}")
        bounds: dict[str, Any] = {k: b.pop(k) for k in ("min_share", "max_share") if k in b}
        buckets.append(_build(SearchBucket, {"bucket": _build(Bucket, b, "bucket"), **bounds}, "bucket"))
    n = len(buckets)
    stage = _build(
        Stage, {**st, "buckets": tuple(dataclasses.replace(b.bucket, share=1 / n) for b in buckets)}, "stage"
    )
    prior = d.pop("prior", PRIOR_NATURAL)
    if isinstance(prior, dict):
        names = [b.bucket.name for b in buckets]
        if set(prior) != set(names):
            raise ConfigError(f"prior: give a share for exactly the buckets {names}; got {sorted(prior)}")
        prior = tuple(float(prior[k]) for k in names)
    elif prior != PRIOR_NATURAL:
        raise ConfigError(f"prior must be {PRIOR_NATURAL!r} or a mapping bucket -> share, got {prior!r}")
    raw_targets = d.pop("targets", None)
    if not isinstance(raw_targets, list):
        raise ConfigError("space: `targets` must be a list")
    targets = tuple(
        _build(Target, _mapping(t, {f.name for f in dataclasses.fields(Target)}, "target"), "target")
        for t in raw_targets
    )
    model = _build(
        ProxyConfig,
        _mapping(d.pop("model", {}) or {}, {f.name for f in dataclasses.fields(ProxyConfig)}, "model"),
        "model",
    )
    fit_d = _mapping(d.pop("fit", {}) or {}, {f.name for f in dataclasses.fields(FitConfig)}, "fit")
    if "models" in fit_d:
        fit_d["models"] = tuple(fit_d["models"])
    fit = _build(FitConfig, fit_d, "fit")
    gates = gates_from_dict(d.pop("gates", "default"))
    return _build(
        Space,
        {
            **d,
            "stage": stage,
            "buckets": tuple(buckets),
            "targets": targets,
            "proxy_tokens": proxy_tokens,
            "prior": prior,
            "model": model,
            "fit": fit,
            "gates": gates,
        },
        "space",
    )


def load_space(path: str, *, proxies: int | None = None) -> Space:
    if not os.path.exists(path):
        raise InputNotFoundError(f"search space {path} not found")
    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise ConfigError(f"search space {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    base = os.path.dirname(os.path.abspath(path))
    for t in (data or {}).get("targets") or []:
        # Target files are relative to the space file, as a user writes them next to it.
        for key in ("jsonl", "docs"):
            if (
                isinstance(t, dict)
                and isinstance(t.get(key), str)
                and "://" not in t[key]
                and not os.path.isabs(t[key])
            ):
                t[key] = os.path.join(base, t[key])
    space = space_from_dict(data)
    return dataclasses.replace(space, proxies=proxies) if proxies is not None else space
