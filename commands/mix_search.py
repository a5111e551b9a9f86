"""`corpusmill mix search SPACE.yaml --docs DOCS_DIR --annotations ANN_DIR -o SEARCH_DIR [--proxies K]`."""

from __future__ import annotations

import argparse
import shlex

from corpusmill.commands.common import add_job_flags
from corpusmill.errors import ConfigError

# `corpusmill mix search ...` reaches this parser as `mix-search` (see commands/__init__.py).
NAME = "mix-search"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        NAME,
        help="choose a stage's bucket shares by training small proxy models (also: `mix search`)",
        description=(
            "Train a small proxy language model on each of K random mixtures of the buckets in SPACE "
            "(plus the prior), fit a regression from bucket shares to target loss, and write "
            "SEARCH_DIR/search.json and SEARCH_DIR/recipe.yaml, which `corpusmill mix` runs as is. "
            "Finished proxies are cached: the same command resumes an interrupted search. See docs/mixing.md."
        ),
    )
    p.add_argument("space", metavar="SPACE.yaml")
    p.add_argument("--docs", required=True, metavar="DOCS_DIR")
    p.add_argument("--annotations", required=True, metavar="ANN_DIR")
    p.add_argument("-o", "--out", required=True, metavar="SEARCH_DIR")
    p.add_argument(
        "--dedup",
        metavar="DUP_DIR",
        help="near-duplicate clusters from `corpusmill dedup`: the proxies see one document per cluster, as `mix` will",
    )
    p.add_argument(
        "--proxies", type=int, default=None, metavar="K", help="random mixtures to train (default: the space's)"
    )
    p.add_argument(
        "--trainer-cmd",
        default=None,
        metavar="'CMD {data} {target} {out}'",
        help="train each proxy with this shell command instead of the built-in JAX model; it must write "
        '{out} as {"losses": {"<target>": loss}} (see docs/mixing.md)',
    )
    p.add_argument(
        "--trainer-timeout", type=float, default=None, metavar="S", help="seconds per proxy for --trainer-cmd"
    )
    add_job_flags(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from corpusmill import storage
    from corpusmill.mixers.search_space import load_space
    from corpusmill.pipelines.mix_search import run_search  # Beam and JAX load only when a search runs

    if args.trainer_cmd is not None:
        missing = [k for k in ("{data}", "{target}", "{out}") if k not in args.trainer_cmd]
        if missing:
            raise ConfigError(f"--trainer-cmd must contain {', '.join(missing)}: got {shlex.quote(args.trainer_cmd)}")
    space = load_space(args.space, proxies=args.proxies)
    if args.overwrite:
        storage.remove_tree(args.out)
    result = run_search(
        space,
        args.docs,
        args.annotations,
        args.out,
        workers=args.workers,
        beam_args=args.beam_args,
        trainer_cmd=args.trainer_cmd,
        trainer_timeout_s=args.trainer_timeout,
        progress=not args.quiet,
        dedup=args.dedup,
    )
    print(result.describe())
    return 0
