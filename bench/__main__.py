"""Run every benchmark in turn: `python -m bench [--quick]` (what `make bench` runs).

Each benchmark runs in its own process, as `python -m bench.<name>` would, so one's memory
and imports do not weigh on the next; a failing one is reported and the others still run.
"""

from __future__ import annotations

import subprocess
import sys
import time

BENCHMARKS = [
    "ingest",
    "tokenize",
    "annotate",
    "pdf_extract",
    "ocr_engines",
    "pdf_devset",
    "llm_client",
    "synth_math",
    "report",
    "dedup",
    "mix_search",
]


def main(argv: list[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        return 0
    failed = []
    for name in BENCHMARKS:
        print(f"== bench.{name} {' '.join(argv)}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}", *argv])
        print(f"== bench.{name}: exit {code}, {time.monotonic() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
