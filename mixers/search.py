"""The mixture search's driver steps, around the Beam job that trains the proxies.

    check(space, corpus)          SQL, empty and overlapping buckets, targets: before any tokenizing
    prepare(..., token_files)     candidates, bounds, mixtures, small vocabulary, target streams, specs
    (pipelines/mix_search.py trains every spec without a result.json, one Beam element each)
    finish(...)                   read results, fit, search the simplex, write search.json + recipe.yaml

Nothing here trains a model or imports Beam; everything is deterministic for a space and corpus.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from corpusmill import storage
from corpusmill.corpus import Corpus
from corpusmill.errors import ConfigError
from corpusmill.mixers import search_data as sd
from corpusmill.mixers.search_fit import choose
from corpusmill.mixers.search_space import Space
from corpusmill.mixers.selection import create_mix_view, create_units_view, empty_buckets, select_stage, validate_sql

SEARCH_FILE = "search.json"
RECIPE_FILE = "recipe.yaml"
SEARCH_VERSION = 1
# Below this CV rank correlation the fit is reported as unreliable (a warning, not an error).
RELIABLE_SPEARMAN = 0.7


@dataclass
class Prepared:
    space: Space
    bounds: sd.Bounds
    mixtures: np.ndarray
    specs: list[dict[str, Any]]
    vocab: list[int]


def check(space: Space, corpus: Corpus) -> dict[str, tuple[list[str], list[str]]]:
    """Every check that needs no token counts; returns the file targets' (texts, ids)."""
    recipe = space.training_recipe([1 / len(space.buckets)] * len(space.buckets), space.proxy_tokens)
    validate_sql(corpus, recipe)
    for t in space.targets:
        if t.where is not None:
            sd.check_target_sql(corpus, t)
    if not space.first_match:
        overlaps = sd.overlapping_buckets(corpus, space)
        if overlaps:
            raise ConfigError(f"{overlaps[0]}; make the conditions disjoint or set `first_match: true` in the space")
    problems = empty_buckets(corpus, recipe)
    if problems:
        raise ConfigError(
            problems[0].replace("stage ", "", 1).split(" ", 1)[1] + " (after the quality gates and held-out targets)"
        )
    files = {}
    where = recipe.stages[0].where
    for t in space.targets:
        if t.where is None:
            texts, ids = sd.read_target_texts(t)
            sd.check_target_overlap(corpus, t, texts, ids, where)
            files[t.name] = (texts, ids)
    return files


def _target_streams(
    space: Space, corpus: Corpus, files: dict[str, tuple[list[str], list[str]]], token_files: list[str], tokenizer: Any
) -> dict[str, np.ndarray]:
    streams = {}
    for t in space.targets:
        if t.where is not None:
            ids = sorted(
                r[0]
                for r in corpus.con.execute(
                    f"SELECT id FROM {sd.PROBE_VIEW} WHERE coalesce(({t.where}), FALSE)"
                ).fetchall()
            )
            rows: dict[str, np.ndarray] = {}
            for f in token_files:
                rows.update(sd.token_cache.read_token_rows(f, set(ids) - rows.keys()))
            streams[t.name] = sd.joined([rows[i] for i in ids if i in rows], tokenizer.eos_id)
        else:
            flat, lengths = tokenizer.encode_flat(files[t.name][0])
            parts = np.split(np.asarray(flat, np.int32), np.cumsum(lengths)[:-1])
            streams[t.name] = sd.joined(parts, tokenizer.eos_id)
    return streams


def prepare(
    space: Space,
    corpus: Corpus,
    out: str,
    *,
    files: dict[str, tuple[list[str], list[str]]],
    token_files: list[str],
    tokenizer: Any,
    trainer_cmd: str | None = None,
    trainer_timeout_s: float | None = None,
) -> Prepared:
    """Everything the proxies need, written under `out`; specs of finished proxies are kept (cache hits)."""
    create_mix_view(corpus, token_files)
    base = space.training_stage([1 / len(space.buckets)] * len(space.buckets), space.proxy_tokens)
    create_units_view(corpus, base)
    candidates = select_stage(corpus, base, space.gates)
    b = sd.bounds(space, candidates)
    mix = sd.mixtures(space, b)
    streams = _target_streams(space, corpus, files, token_files, tokenizer)
    for name, s in streams.items():
        if len(s) < space.stage.seq_len + 1:
            raise ConfigError(
                f"target {name}: {len(s)} tokens, fewer than one sequence of seq_len {space.stage.seq_len} + 1"
            )
    used = set(candidates.column("id").to_pylist())
    counts = sd.token_counts(token_files, used, tokenizer.vocab_size, tokenizer.eos_id)
    vocab = sd.small_vocab(counts, space.model.vocab_size)
    vocab_file = storage.join(out, sd.VOCAB_FILE)
    storage.write_json({"qwen_ids": vocab, "oov_id": len(vocab), "tokenizer": tokenizer.fingerprint}, vocab_file)
    targets_dir = storage.join(out, sd.TARGETS_DIR)
    digests = {}
    for name, s in streams.items():
        with storage.atomic_write(storage.join(targets_dir, f"{name}.npy")) as fh:
            np.save(fh, s)
        digests[name] = hashlib.sha256(s.tobytes()).hexdigest()
    config = sd.config_key(space, token_files, vocab, digests, trainer_cmd)
    specs = sd.proxy_specs(
        space,
        mix,
        out,
        config,
        token_files=token_files,
        eos_id=tokenizer.eos_id,
        tokenizer_vocab_size=tokenizer.vocab_size,
        vocab_file=vocab_file,
        targets_dir=targets_dir,
        targets={t.name: t.weight for t in space.targets},
        seq_len=space.stage.seq_len,
        proxy_tokens=space.proxy_tokens,
        model=space.model.to_dict(),
        trainer_cmd=trainer_cmd,
        trainer_timeout_s=trainer_timeout_s,
    )
    for spec, w in zip(specs, mix):
        if not storage.exists(storage.join(spec["dir"], sd.RESULT_FILE)):
            storage.write_parquet(
                sd.proxy_instances(space, candidates, w), storage.join(spec["dir"], sd.INSTANCES_FILE)
            )
    return Prepared(space, b, mix, specs, vocab)


def pending(prepared: Prepared) -> list[dict[str, Any]]:
    return [s for s in prepared.specs if not storage.exists(storage.join(s["dir"], sd.RESULT_FILE))]


def _shares_for_recipe(w: list[float]) -> list[float]:
    """Shares rounded to 6 decimals that still sum to exactly 1 (the largest absorbs the rounding)."""
    r = [round(x, 6) for x in w]
    i = int(np.argmax(r))
    r[i] = round(1 - sum(r[:i]) - sum(r[i + 1 :]), 6)
    return r


def finish(prepared: Prepared, out: str, *, failed: list[dict[str, Any]]) -> dict[str, Any]:
    """Fit on every finished proxy, choose the mixture, write search.json and recipe.yaml."""
    space, b = prepared.space, prepared.bounds
    results = []
    for spec in prepared.specs:
        path = storage.join(spec["dir"], sd.RESULT_FILE)
        if storage.exists(path):
            results.append(storage.read_json(path))
    ok = [r for r in results if r["status"] == "ok"]
    w = np.array([r["weights"] for r in ok], np.float64)
    y = np.array([r["loss"] for r in ok], np.float64)
    f = space.fit
    c = choose(
        w,
        y,
        prior=b.prior,
        lo=b.lo,
        hi=b.hi,
        models=f.models,
        folds=f.folds,
        candidates=f.candidates,
        top=f.top,
        seed=space.seed,
        concentration=space.concentration,
    )
    shares = _shares_for_recipe(c.weights)
    recipe = space.recipe(shares)
    names = space.bucket_names
    oof = dict(zip((r["key"] for r in ok), c.observed_predicted))
    doc = {
        "version": SEARCH_VERSION,
        "space": space.name,
        "buckets": names,
        "targets": {t.name: t.weight for t in space.targets},
        "available_tokens": dict(zip(names, b.available)),
        "bounds": {n: [float(lo), float(hi)] for n, lo, hi in zip(names, b.lo, b.hi)},
        "prior": dict(zip(names, (float(x) for x in b.prior))),
        "proxies": [
            {
                "index": r["index"],
                "key": r["key"],
                "status": r["status"],
                "weights": dict(zip(names, r["weights"])),
                "losses": r["losses"],
                "loss": r["loss"],
                "tokens": r["stream_tokens"],
                "cv_predicted": oof.get(r["key"]),
            }
            for r in sorted(results, key=lambda r: r["index"])
        ],
        "failed": sorted(failed, key=lambda d: d["index"]),
        "fit": {"model": c.model, "cv_spearman": c.cv_spearman, "proxies_used": len(ok)},
        "chosen": {
            "weights": dict(zip(names, shares)),
            "predicted_loss": c.predicted_loss,
            "prior_predicted_loss": c.prior_predicted_loss,
        },
        "model": space.model.to_dict(),
        "seq_len": space.stage.seq_len,
        "proxy_tokens": space.proxy_tokens,
        "vocab_size": len(prepared.vocab),
    }
    storage.write_json(doc, storage.join(out, SEARCH_FILE))
    with storage.atomic_write(storage.join(out, RECIPE_FILE), "w") as fh:
        fh.write(
            f"# Written by `corpusmill mix search` ({space.name}); run with `corpusmill mix {RECIPE_FILE} ...`.\n"
            f"# {len(ok)} proxies, fit {c.model} (CV Spearman {c.cv_spearman[c.model]:.3f}); predicted target loss "
            f"{c.predicted_loss:.4f} vs {c.prior_predicted_loss:.4f} for the prior. Details: {SEARCH_FILE}.\n"
        )
        yaml.safe_dump(_recipe_dict(recipe), fh, sort_keys=False, allow_unicode=True)
    return doc


def _recipe_dict(recipe: Any) -> dict[str, Any]:
    d = recipe.to_dict()
    d["stages"] = [{k: v for k, v in s.items() if v is not None} for s in d["stages"]]
    for s in d["stages"]:
        s["buckets"] = [{k: v for k, v in bk.items() if v is not None} for bk in s["buckets"]]
    return json.loads(json.dumps(d))  # tuples -> lists, for plain YAML
