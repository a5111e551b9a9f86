"""`corpusmill mix RECIPE.yaml --docs DOCS_DIR --annotations ANN_DIR -o SHARDS_DIR [--dry-run]`."""

from __future__ import annotations

import argparse
import re
import sys

from corpusmill.commands.common import add_job_flags
from corpusmill.errors import ConfigError

_SUFFIXES = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}


def parse_tokens(text: str) -> int:
    """Token counts as people write them: 2000000, 2e6, 2M, 500k, 30T."""
    m = re.fullmatch(r"\s*([0-9][0-9_.]*(?:e[0-9]+)?)\s*([kKmMbBgGtT]?)\s*", text)
    if not m:
        raise ConfigError(f"--budget {text!r}: expected a token count such as 2000000, 2e6, 500k, 2M or 30T")
    value = float(m.group(1).replace("_", "")) * _SUFFIXES[m.group(2).lower()]
    if value < 1:
        raise ConfigError(f"--budget {text!r} must be at least 1 token")
    return int(value)


def _budgets(values: list[str]) -> tuple[int | None, dict[str, int]]:
    total, per_stage = None, {}
    for value in values:
        stage, sep, tokens = value.rpartition("=")
        if sep:
            per_stage[stage] = parse_tokens(tokens)
        elif total is not None:
            raise ConfigError("--budget TOKENS given twice; use STAGE=TOKENS for single stages")
        else:
            total = parse_tokens(tokens)
    return total, per_stage


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mix",
        help="select, tokenize, pack and shard the corpus for each pretraining stage",
        description=(
            "Plan every stage of RECIPE (a YAML file, or s1, s2, s3 or qwen3 for the shipped defaults) "
            "over the annotated corpus, then write Megatron .bin/.idx shards, manifest.json and "
            "provenance per stage under SHARDS_DIR/<stage>/. Token counts are cached in "
            "SHARDS_DIR/_tokens/. See docs/mixing.md."
        ),
    )
    p.add_argument("recipe", metavar="RECIPE", help="recipe YAML, or s1 / s2 / s3 / qwen3")
    p.add_argument("--docs", required=True, metavar="DOCS_DIR")
    p.add_argument("--annotations", required=True, metavar="ANN_DIR")
    p.add_argument("-o", "--out", required=True, metavar="SHARDS_DIR")
    p.add_argument(
        "--dedup",
        metavar="DUP_DIR",
        help="near-duplicate clusters from `corpusmill dedup`; the default recipes then select WHERE dup_keep",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (tokens per bucket, repeats, unmet budgets); write no shards",
    )
    p.add_argument(
        "--budget",
        action="append",
        metavar="[STAGE=]TOKENS",
        help="total tokens over all stages (stage ratios kept), e.g. 2M; or one stage's budget, e.g. "
        "s3=150k (repeatable; stage budgets apply after the total)",
    )
    p.add_argument("--stage", action="append", metavar="NAME", help="only this stage (repeatable)")
    p.add_argument(
        "--strict", action="store_true", help="stop, before writing shards, if a bucket budget cannot be met"
    )
    add_job_flags(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    from corpusmill.mixers.recipe import load_recipe
    from corpusmill.pipelines.mix import run_mix  # Beam is imported only when a job runs

    recipe = load_recipe(args.recipe)
    if args.stage:
        recipe = recipe.only(args.stage)
    total, per_stage = _budgets(args.budget or [])
    if total:
        recipe = recipe.with_budget(total)
    if per_stage:
        recipe = recipe.with_stage_budgets(per_stage)
    if args.strict:
        recipe = dataclasses.replace(recipe, strict=True)
    result = run_mix(
        recipe,
        args.docs,
        args.annotations,
        args.out,
        dry_run=args.dry_run,
        workers=args.workers,
        beam_args=args.beam_args,
        overwrite=args.overwrite,
        progress=not args.quiet,
        dedup=args.dedup,
    )
    print(result.describe())
    if args.dry_run:
        print("mix: dry run, no shards written", file=sys.stderr)
        return 0
    for plan in result.plans:
        state = "already finished" if plan.stage.name in result.stages_skipped else "written"
        print(f"mix: stage {plan.stage.name} {state}: {args.out}/{plan.stage.name}/manifest.json")
    tokens = sum(p.layout.content_tokens for p in result.plans if p.stage.name not in result.stages_skipped)
    rate = tokens / result.elapsed_s if result.elapsed_s > 0 else 0.0
    print(f"mix: {tokens:,} tokens written in {result.elapsed_s:.1f}s ({rate:,.0f} tokens/s)")
    return 0
