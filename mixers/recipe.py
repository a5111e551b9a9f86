"""Stage recipes: typed, validated once, stored with the shards.

A recipe is YAML with a list of stages. Each stage has a sequence length, a token budget, a
seed and buckets; a bucket is a DuckDB SQL condition over the `corpus` view (plus
`n_tokens`) with a share of the stage budget or a per-document weight, and a cap on how
often one document may repeat. Buckets are tried in order: a document belongs to the first
bucket whose condition holds, so no document is counted twice. Quality gates (`gates:`,
see `mixers/gates.py`) keep junk out of every stage; in a packed stage that splits long
documents, a bucket counts windows (see `mixers/windows.py`). A recipe file may start from
a shipped one with `extends: s1` and change only what it names. See docs/mixing.md.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import math
import os
from dataclasses import dataclass
from typing import Any

import yaml

from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.mixers.gates import Gate, merge_gates

PACKING_STREAM = "stream"  # documents back to back, one Megatron sequence each (S1, S2)
PACKING_PACK = "pack"  # whole documents best-fit into fixed-length sequences (S3)
LONG_SPLIT = "split"
LONG_SKIP = "skip"
MISSING_SKIP = "skip"
MISSING_FAIL = "fail"
# Near-duplicates (the `corpusmill dedup` sidecar): `when_present` selects only `dup_keep`
# documents when a DUP_DIR is given, `required` also fails without one, `off` ignores it.
DEDUP_OFF = "off"
DEDUP_WHEN_PRESENT = "when_present"
DEDUP_REQUIRED = "required"
DEDUP_WHERE = "coalesce(dup_keep, TRUE)"  # documents the dedup run never saw stay eligible
MAX_REPEATS_LIMIT = 64
DEFAULT_SHARD_TOKENS = 1 << 25  # 32 Mi tokens: 128 MiB .bin files
SHARE_SUM_TOLERANCE = 1e-6
DEFAULT_RECIPES = ("s1", "s2", "s3")
# Per-language token shares inside each bucket: as the bucket's documents have them
# ("pool"), or as the stage's whole eligible corpus has them ("corpus": S3, whose long
# documents would otherwise tilt it towards whichever languages have long texts).
LANG_POOL = "pool"
LANG_CORPUS = "corpus"


@dataclass(frozen=True)
class Bucket:
    name: str
    where: str
    share: float | None = None
    # With `share`: relative weight of a document inside the bucket. Without: the expected
    # number of times the document is used. A number or a SQL expression over the view.
    weight: float | str = 1.0
    max_repeats: int = 1

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"bucket name {self.name!r}: use letters, digits, '_' or '-'")
        if not isinstance(self.where, str) or not self.where.strip():
            raise ConfigError(f"bucket {self.name}: `where` must be a SQL condition")
        if self.share is not None and not (0 < self.share <= 1):
            raise ConfigError(f"bucket {self.name}: share {self.share} must be in (0, 1]")
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float, str)):
            raise ConfigError(f"bucket {self.name}: weight must be a number or a SQL expression")
        if isinstance(self.weight, (int, float)) and not (math.isfinite(self.weight) and self.weight >= 0):
            raise ConfigError(f"bucket {self.name}: weight {self.weight} must be a finite number >= 0")
        if not isinstance(self.max_repeats, int) or not (1 <= self.max_repeats <= MAX_REPEATS_LIMIT):
            raise ConfigError(f"bucket {self.name}: max_repeats must be an integer in 1..{MAX_REPEATS_LIMIT}")

    @property
    def weight_sql(self) -> str:
        return repr(float(self.weight)) if isinstance(self.weight, (int, float)) else self.weight


@dataclass(frozen=True)
class Stage:
    name: str
    seq_len: int
    budget_tokens: int
    buckets: tuple[Bucket, ...]
    seed: int = 0
    where: str = "TRUE"
    packing: str = PACKING_STREAM
    long_documents: str = LONG_SPLIT
    shard_tokens: int = DEFAULT_SHARD_TOKENS
    language_shares: str = LANG_POOL

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"stage name {self.name!r}: use letters, digits, '_' or '-'")
        for key in ("seq_len", "budget_tokens", "shard_tokens"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"stage {self.name}: {key} must be a positive integer, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"stage {self.name}: seed must be an integer >= 0")
        if self.packing not in (PACKING_STREAM, PACKING_PACK):
            raise ConfigError(f"stage {self.name}: packing must be {PACKING_STREAM!r} or {PACKING_PACK!r}")
        if self.long_documents not in (LONG_SPLIT, LONG_SKIP):
            raise ConfigError(f"stage {self.name}: long_documents must be {LONG_SPLIT!r} or {LONG_SKIP!r}")
        if self.language_shares not in (LANG_POOL, LANG_CORPUS):
            raise ConfigError(f"stage {self.name}: language_shares must be {LANG_POOL!r} or {LANG_CORPUS!r}")
        if not self.buckets:
            raise ConfigError(f"stage {self.name}: needs at least one bucket")
        names = [b.name for b in self.buckets]
        if len(set(names)) != len(names):
            raise ConfigError(f"stage {self.name}: bucket names repeat: {names}")
        shares = sum(b.share or 0.0 for b in self.buckets)
        if shares > 1 + SHARE_SUM_TOLERANCE:
            raise ConfigError(f"stage {self.name}: bucket shares sum to {shares:.4f} > 1")
        if all(b.share is not None for b in self.buckets) and abs(shares - 1) > SHARE_SUM_TOLERANCE:
            raise ConfigError(f"stage {self.name}: bucket shares sum to {shares:.4f}; they must sum to 1")


@dataclass(frozen=True)
class Recipe:
    stages: tuple[Stage, ...]
    name: str = "recipe"
    tokenizer: str = "qwen"
    eos_token: str = "<|endoftext|>"
    # Unmet budgets: False writes what the data allows and reports it; True stops before tokenizing shards.
    strict: bool = False
    missing_annotations: str = MISSING_SKIP
    dedup: str = DEDUP_OFF
    gates: tuple[Gate, ...] = ()

    def __post_init__(self) -> None:
        if not self.stages:
            raise ConfigError("a recipe needs at least one stage")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"stage names repeat: {names}")
        if self.missing_annotations not in (MISSING_SKIP, MISSING_FAIL):
            raise ConfigError(f"missing_annotations must be {MISSING_SKIP!r} or {MISSING_FAIL!r}")
        if self.dedup not in (DEDUP_OFF, DEDUP_WHEN_PRESENT, DEDUP_REQUIRED):
            raise ConfigError(f"dedup must be {DEDUP_OFF!r}, {DEDUP_WHEN_PRESENT!r} or {DEDUP_REQUIRED!r}")

    def with_dedup(self, present: bool) -> tuple[Recipe, str]:
        """The recipe as it runs with (or without) a near-duplicate sidecar, and a line for the plan
        (empty when the recipe does not ask for near-duplicate removal)."""
        if self.dedup == DEDUP_OFF:
            return self, ""  # the recipe does not ask: the plan says nothing
        if not present:
            if self.dedup == DEDUP_REQUIRED:
                raise ConfigError(
                    "the recipe requires near-duplicate clusters: run `corpusmill dedup` and pass --dedup"
                )
            return self, "near-duplicates: not removed (no --dedup DUP_DIR given)"
        stages = tuple(dataclasses.replace(s, where=f"({s.where}) AND {DEDUP_WHERE}") for s in self.stages)
        return dataclasses.replace(self, stages=stages), "near-duplicates: one document per cluster (WHERE dup_keep)"

    def with_budget(self, total_tokens: int) -> Recipe:
        """The same recipe with stage budgets rescaled to sum to `total_tokens` (ratios kept)."""
        if total_tokens < 1:
            raise ConfigError(f"budget must be positive, got {total_tokens}")
        current = sum(s.budget_tokens for s in self.stages)
        stages = tuple(
            dataclasses.replace(s, budget_tokens=max(1, round(s.budget_tokens * total_tokens / current)))
            for s in self.stages
        )
        return dataclasses.replace(self, stages=stages)

    def with_stage_budgets(self, budgets: dict[str, int]) -> Recipe:
        """The same recipe with the named stages' budgets set (e.g. {"s3": 150_000})."""
        unknown = set(budgets) - {s.name for s in self.stages}
        if unknown:
            raise ConfigError(f"no stage {sorted(unknown)} in recipe; stages: {[s.name for s in self.stages]}")
        stages = tuple(dataclasses.replace(s, budget_tokens=budgets.get(s.name, s.budget_tokens)) for s in self.stages)
        return dataclasses.replace(self, stages=stages)

    def only(self, stage_names: list[str]) -> Recipe:
        unknown = set(stage_names) - {s.name for s in self.stages}
        if unknown:
            raise ConfigError(f"no stage {sorted(unknown)} in recipe; stages: {[s.name for s in self.stages]}")
        return dataclasses.replace(self, stages=tuple(s for s in self.stages if s.name in stage_names))

    def to_dict(self) -> dict[str, Any]:
        """The recipe as YAML/JSON data that `recipe_from_dict` reads back (gates as a mapping)."""
        out = dataclasses.asdict(self)
        out["gates"] = {g.name: g.where for g in self.gates}
        return out


_STAGE_KEYS = {f.name for f in dataclasses.fields(Stage)}
_BUCKET_KEYS = {f.name for f in dataclasses.fields(Bucket)}
_RECIPE_KEYS = {f.name for f in dataclasses.fields(Recipe)} | {"extends"}


def _int(value: Any, what: str) -> Any:
    # YAML reads 1e9 as a float and 30_000 as an int; accept whole floats for token counts.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            f = float(value.replace("_", ""))
        except ValueError:
            raise ConfigError(f"{what}: {value!r} is not a number") from None
        return int(f) if f.is_integer() else value
    return value


def _check_keys(d: Any, allowed: set[str], what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ConfigError(f"{what} must be a mapping, got {type(d).__name__}")
    unknown = set(d) - allowed
    if unknown:
        raise ConfigError(f"{what}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return d


def stage_from_dict(d: Any) -> Stage:
    d = dict(_check_keys(d, _STAGE_KEYS, f"stage {d.get('name') if isinstance(d, dict) else d!r}"))
    buckets = d.pop("buckets", None)
    if not isinstance(buckets, list):
        raise ConfigError(f"stage {d.get('name')}: `buckets` must be a list")
    for key in ("seq_len", "budget_tokens", "shard_tokens", "seed"):
        if key in d:
            d[key] = _int(d[key], f"stage {d.get('name')}: {key}")
    parsed = tuple(Bucket(**_check_keys(b, _BUCKET_KEYS, f"bucket in stage {d.get('name')}")) for b in buckets)
    try:
        return Stage(buckets=parsed, **d)
    except TypeError as exc:
        raise ConfigError(f"stage {d.get('name')}: {exc}") from None


def recipe_from_dict(d: Any) -> Recipe:
    d = dict(_check_keys(d, _RECIPE_KEYS, "recipe"))
    base = d.pop("extends", None)
    if base is not None:
        return _extend(load_recipe(str(base)), d)
    stages = d.pop("stages", None)
    if not isinstance(stages, list):
        raise ConfigError("recipe: `stages` must be a list")
    gates = merge_gates((), d.pop("gates", None))
    return Recipe(stages=tuple(stage_from_dict(s) for s in stages), gates=gates, **d)


def _extend(base: Recipe, d: dict[str, Any]) -> Recipe:
    """`base` with the keys of `d` replaced; `gates` merge by name, `stages` replace by name."""
    changes: dict[str, Any] = {k: v for k, v in d.items() if k not in ("stages", "gates")}
    if "gates" in d:
        changes["gates"] = merge_gates(base.gates, d["gates"])
    if "stages" in d:
        if not isinstance(d["stages"], list):
            raise ConfigError("recipe: `stages` must be a list")
        given = {s.name: s for s in (stage_from_dict(x) for x in d["stages"])}
        changes["stages"] = tuple(given.pop(s.name, s) for s in base.stages) + tuple(given.values())
    return dataclasses.replace(base, **changes)


def load_recipe(path: str) -> Recipe:
    """A recipe from a YAML file, or one of the defaults by name (`s1`, `s2`, `s3`, `qwen3`)."""
    if not os.path.exists(path):
        if path in (*DEFAULT_RECIPES, "qwen3"):
            return default_recipe(path)
        raise InputNotFoundError(f"recipe {path} not found")
    with open(path, encoding="utf-8") as fh:
        try:
            data = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise ConfigError(f"recipe {path} is not valid YAML: {exc}") from None
    return recipe_from_dict(data)


def default_recipe(name: str = "qwen3") -> Recipe:
    """The shipped Qwen3-like stages: `s1`, `s2`, `s3`, or `qwen3` for all three in order."""
    names = DEFAULT_RECIPES if name == "qwen3" else (name,)
    stages: list[Any] = []
    base: dict[str, Any] = {}
    for n in names:
        text = importlib.resources.files("corpusmill.mixers.recipes").joinpath(f"{n}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        stages += data.pop("stages")
        base = data
    return recipe_from_dict({**base, "name": name, "stages": stages})
