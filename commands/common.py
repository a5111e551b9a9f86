"""Helpers shared by the sub-command modules: job flags, a model served for a run, the end-of-run summary."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import Any

from corpusmill.llm.launcher import DEFAULT_COMMAND as DEFAULT_SERVE_COMMAND


def add_serve_flags(parser: argparse.ArgumentParser, url_flag: str) -> None:
    """`--serve MODEL`: the job starts its own OpenAI-compatible server instead of taking `url_flag`."""
    g = parser.add_argument_group("a model served for this run (instead of " + url_flag + ")")
    g.add_argument(
        "--serve",
        metavar="MODEL",
        default=None,
        help=f"start `vllm serve MODEL` here for the run, use it as {url_flag}, stop it at the end",
    )
    g.add_argument(
        "--serve-cmd",
        default=DEFAULT_SERVE_COMMAND,
        metavar="CMD",
        help="server command with {model} {host} {port}, e.g. a vLLM in its own venv or SGLang "
        f"(default: {DEFAULT_SERVE_COMMAND!r})",
    )
    g.add_argument("--serve-port", type=int, default=8000, metavar="PORT", help="its port (default: 8000)")


def with_served_model(
    func: Callable[[argparse.Namespace], int], *, url: str, model: str
) -> Callable[[argparse.Namespace], int]:
    """Runs `func` with the server of `--serve` up, its URL in `args.<url>` and, unless given,
    the served model's name in `args.<model>`; without `--serve`, runs `func` as is."""

    @functools.wraps(func)
    def run(args: argparse.Namespace) -> int:
        if not args.serve:
            return func(args)
        from corpusmill.llm.launcher import VLLMServer

        with VLLMServer(args.serve, command=args.serve_cmd, port=args.serve_port) as server:
            setattr(args, url, [server.url] if isinstance(getattr(args, url), list) else server.url)
            setattr(args, model, getattr(args, model) or args.serve)
            return func(args)

    return run


def add_llm_flags(parser: argparse.ArgumentParser) -> None:
    """Limits on the model calls of a job, and `--retry-failed` (see docs/reliability.md)."""
    g = parser.add_argument_group("LLM limits and retries")
    g.add_argument("--llm-timeout", type=float, default=None, metavar="S", help="seconds per HTTP attempt")
    g.add_argument(
        "--llm-deadline",
        type=float,
        default=None,
        metavar="S",
        help="seconds per item over all its attempts and waits (default 1800; 0: none)",
    )
    g.add_argument("--llm-retries", type=int, default=None, metavar="N", help="retries of a transient failure")
    g.add_argument(
        "--llm-max-answer-mb", type=float, default=None, metavar="MB", help="largest answer body read (default 8)"
    )
    g.add_argument(
        "--retry-failed",
        action="store_true",
        help="retry the items of the run in the output folder that failed for a transient reason "
        "(server down, timeout, 5xx, 429); a plain re-run does the same",
    )


def llm_limits(args: argparse.Namespace) -> Any:
    """The `LLMLimits` of `add_llm_flags`."""
    from corpusmill.llm import LLMLimits

    size = args.llm_max_answer_mb
    return LLMLimits(
        timeout=args.llm_timeout,
        deadline=args.llm_deadline,
        retries=args.llm_retries,
        max_answer_bytes=None if size is None else int(size * 2**20),
    )


def print_retryable(summary: dict[str, Any]) -> None:
    """Says how many items a re-run would retry, when some failed for a transient reason."""
    if summary.get("retried") and not summary.get("skipped"):
        print(f"  retried {summary['retried']:,} items that had failed for a transient reason")
    if summary.get("retryable"):
        print(
            f"  {summary['retryable']:,} items failed for a transient reason (server down, timeout, 5xx, 429): "
            "run the same command again to retry only those",
            file=sys.stderr,
        )


def add_job_flags(parser: argparse.ArgumentParser) -> None:
    """Flags every Beam job takes; any unknown --flag is passed to Beam unchanged."""
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: CPU count); ignored by remote runners",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.set_defaults(beam_args_ok=True)
    parser.epilog = (
        (parser.epilog or "")
        + " Other --flags go to Beam unchanged, e.g. --runner DataflowRunner --project P --region R "
        "--temp_location gs://B/tmp, or --runner PortableRunner --job_endpoint embed."
    ).strip()


def print_counts(job: str, summary: dict[str, Any], out: str) -> None:
    """The closing lines of a job: what went in, what came out, what was dead-lettered."""
    if summary.get("skipped"):
        print(f"{job}: {out} already holds this finished run; nothing to do", file=sys.stderr)
    dead = summary.get("dead_letters", {})
    elapsed = summary.get("elapsed_s") or 0
    rate = summary.get("docs_per_s") or (summary.get("records_in", 0) / elapsed if elapsed else 0)
    # Synthesis generates more than it keeps: the surplus closes its books.
    surplus = f"surplus={summary['surplus']:,} " if "surplus" in summary else ""
    print(
        f"{job}: in={summary.get('records_in', 0):,} out={summary.get('docs', 0):,} "
        f"dead_letters={sum(dead.values()):,} duplicates={summary.get('duplicates', 0):,} {surplus}"
        f"elapsed={elapsed:.1f}s ({rate:,.0f} docs/s)"
    )
    for reason, n in dead.items():
        print(f"  dead letter {reason}: {n:,}")
    print_retryable(summary)
    print(f"  output: {out}")
