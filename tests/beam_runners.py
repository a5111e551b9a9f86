"""Runner settings every job's tests use, so each job is checked on the same three paths.

- `in_process`: FnApiRunner, 1 worker (fast, in memory);
- `two_workers`: FnApiRunner multi_processing with 2 worker processes (pickling, ordering);
- `portable`: PortableRunner with an embedded job server and LOOPBACK workers, offline: the
  Fn API path Spark and Flink take, so coders, pickling and file handling that would break on
  a cluster break here first.

A job test does `@pytest.mark.parametrize("runner", RUNNERS)` and calls the job with
`**runner_kwargs(runner)`.
"""

from __future__ import annotations

from typing import Any

from corpusmill.pipelines.beam_options import PORTABLE_EMBED_ARGS

RUNNERS = ["in_process", "two_workers", "portable"]


def runner_kwargs(runner: str) -> dict[str, Any]:
    """Keyword arguments (`workers`, `beam_args`) that every `run_<job>` function accepts."""
    if runner == "in_process":
        return {"workers": 1, "beam_args": []}
    if runner == "two_workers":
        return {"workers": 2, "beam_args": []}
    if runner == "portable":
        return {"workers": None, "beam_args": list(PORTABLE_EMBED_ARGS)}
    raise ValueError(f"unknown runner {runner!r}; known: {RUNNERS}")
