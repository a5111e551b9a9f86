"""`python -m bench` (what `make bench` runs) knows every benchmark in bench/."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import BENCHMARKS


def test_every_benchmark_module_is_run() -> None:
    modules = {p.stem for p in (Path(__file__).resolve().parents[1] / "bench").glob("*.py")} - {"__init__", "__main__"}
    assert sorted(BENCHMARKS) == sorted(modules)
