"""`corpusmill synth math|code|textbook ...`: synthetic documents, verified, deduplicated, decontaminated."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from corpusmill.commands.common import (
    add_job_flags,
    add_llm_flags,
    add_serve_flags,
    llm_limits,
    print_counts,
    with_served_model,
)
from corpusmill.errors import ConfigError, InputNotFoundError
from corpusmill.layout import LLM_CACHE_DIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="generate synthetic math, code or textbook documents",
        description="Generate synthetic documents (source synth/<kind>) into OUT/part-NNNNN.parquet, "
        "with dead letters and OUT/_summary.json. See docs/synth.md.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    math = kinds.add_parser("math", help="math problems with step-by-step solutions and verified answers")
    math.add_argument(
        "--programmatic",
        action="store_true",
        help="no LLM: problem families computed with sympy, exact answers, templates in 10 languages",
    )
    math.add_argument(
        "--mode",
        choices=("solve", "invent"),
        default="solve",
        help="with an LLM: solve programmatic problems (answer checked with sympy) or invent new "
        "ones (kept when --samples solutions agree)",
    )
    math.add_argument("--families", default=None, help="comma-separated family names (programmatic/solve)")
    math.add_argument("--samples", type=int, default=4, help="solutions per invented problem (default 4)")
    code = kinds.add_parser("code", help="Python functions with unit tests, kept when the tests pass in a sandbox")
    code.add_argument("--cpu-seconds", type=int, default=5)
    code.add_argument("--wall-seconds", type=float, default=10.0)
    code.add_argument("--memory-mb", type=int, default=512)
    code.add_argument("--sandboxes", type=int, default=2, help="sandboxed runs at once per worker")
    book = kinds.add_parser("textbook", help="Cosmopedia-style text: seed x audience x style x language")
    book.add_argument("--corpus", metavar="DOCS_DIR", help="seed from documents of this corpus instead of --topics")
    book.add_argument("--annotations", metavar="ANN_DIR", help="annotations of --corpus (for --where)")
    book.add_argument("--where", default="true", help='SQL filter on the corpus view, e.g. "edu_score >= 3"')
    book.add_argument("--words", type=int, default=800, help="target length in words (CJK: characters)")
    for kp in (math, code, book):
        _common(kp)
    p.set_defaults(func=with_served_model(_run, url="llm_url", model="model"))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", type=int, required=True, help="items to generate (programmatic math: documents to write)")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--languages", default=None, help="comma-separated codes (default: math all 10, textbook en)")
    p.add_argument("--topics", metavar="FILE", help="seed topics, one per line")
    p.add_argument(
        "--llm-url", action="append", default=[], metavar="URL", help="OpenAI-compatible server (repeatable)"
    )
    p.add_argument("--model", default=None, help="model name (default: the server's first)")
    p.add_argument("--api-key", default=None)
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--cache-dir", default=None, help="LLM response cache (default OUT/_llm_cache)")
    p.add_argument("--no-dedup", dest="dedup", action="store_false", help="keep near-duplicates")
    p.add_argument("--near-dup-threshold", type=float, default=0.8, help="MinHash Jaccard threshold (default 0.8)")
    p.add_argument("--no-decontaminate", dest="decontaminate", action="store_false")
    p.add_argument(
        "--benchmark",
        action="append",
        default=[],
        metavar="FILE",
        help="extra benchmark JSONL(.gz)/text file to decontaminate against (repeatable)",
    )
    p.add_argument("--no-shipped-benchmarks", action="store_true", help="do not use the shipped GSM8K/HumanEval")
    p.add_argument("--ngram", type=int, default=13, help="decontamination n-gram length (default 13)")
    add_serve_flags(p, "--llm-url")
    add_llm_flags(p)
    add_job_flags(p)


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _lines(path: str | None) -> list[str]:
    if not path:
        return []
    if not Path(path).exists():
        raise InputNotFoundError(f"topics file not found: {path}")
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def _client(args: argparse.Namespace):
    from corpusmill.llm import ClientConfig

    if not args.llm_url:
        raise ConfigError(
            f"synth {args.kind} needs --llm-url (an OpenAI-compatible server, e.g. `vllm serve`)"
            + (", or --programmatic" if args.kind == "math" else "")
        )
    return ClientConfig(
        urls=tuple(args.llm_url),
        model=args.model,
        api_key=args.api_key,
        cache_dir=args.cache_dir or str(Path(args.out) / LLM_CACHE_DIR),
        **llm_limits(args).client_kwargs(),
    )


def _generator(args: argparse.Namespace) -> Any:
    temp = {} if args.temperature is None else {"temperature": args.temperature}
    langs = _csv(args.languages)
    if args.kind == "math" and args.programmatic:
        from corpusmill.synth.math_programmatic import ProgrammaticMath

        return ProgrammaticMath(seed=args.seed, langs=langs, families=_csv(args.families))
    if args.kind == "math":
        from corpusmill.synth.math_llm import LLMMath

        return LLMMath(
            _client(args),
            mode=args.mode,
            seed=args.seed,
            langs=langs,
            topics=_lines(args.topics) or None,
            families=_csv(args.families),
            samples=args.samples,
            **temp,
        )
    if args.kind == "code":
        from corpusmill.synth.code_gen import LLMCode
        from corpusmill.synth.sandbox import Limits

        limits = Limits(cpu_seconds=args.cpu_seconds, wall_seconds=args.wall_seconds, memory_mb=args.memory_mb)
        return LLMCode(
            _client(args),
            seed=args.seed,
            topics=_lines(args.topics) or None,
            limits=limits,
            sandboxes=args.sandboxes,
            **temp,
        )
    from corpusmill.synth.textbook import LLMTextbook, seeds_from_corpus

    if bool(args.corpus) == bool(args.topics):
        raise ConfigError("synth textbook needs exactly one of --topics FILE or --corpus DOCS_DIR")
    extracts = seeds_from_corpus(args.corpus, args.annotations, where=args.where) if args.corpus else ()
    return LLMTextbook(
        _client(args),
        topics=_lines(args.topics),
        extracts=extracts,
        seed=args.seed,
        langs=langs or ["en"],
        words=args.words,
        **temp,
    )


def _run(args: argparse.Namespace) -> int:
    from corpusmill.pipelines.synthesize import overshoot, run_synthesize  # Beam is imported only when a job runs
    from corpusmill.synth.decontaminate import shipped_benchmarks
    from corpusmill.synth.dedup import NearDupConfig

    generator = _generator(args)
    programmatic = args.kind == "math" and args.programmatic
    if args.n < 1:
        raise ConfigError("-n must be at least 1")
    benchmarks = ([] if args.no_shipped_benchmarks else list(shipped_benchmarks())) + args.benchmark
    if args.decontaminate and not benchmarks:
        raise ConfigError("--no-shipped-benchmarks needs --benchmark FILE (or use --no-decontaminate)")
    summary = run_synthesize(
        generator,
        args.out,
        n=overshoot(args.n) if programmatic else args.n,
        target=args.n if programmatic else None,
        near_dup=NearDupConfig(threshold=args.near_dup_threshold) if args.dedup else None,
        decontaminate=args.decontaminate,
        benchmarks=benchmarks or None,
        ngram=args.ngram,
        workers=args.workers,
        beam_args=args.beam_args,
        progress=not args.quiet,
        overwrite=args.overwrite,
        retry_failed=args.retry_failed,
    )
    print_counts(f"synth {args.kind}", {**summary, "docs_per_s": summary.get("items_per_s")}, args.out)
    print(
        f"  duplicate rate: {summary['duplicate_rate']:.2%}; removed by dedup: {summary['removed_by_dedup']:,}, "
        f"by decontamination: {summary['removed_by_decontamination']:,}; surplus: {summary['surplus']:,}",
        file=sys.stdout,
    )
    return 0
