"""Helpers shared by the sub-command modules: job flags and the end-of-run summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any


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
    print(f"  output: {out}")
