"""The README's cluster route, `--setup_file ./setup.py`, through Beam's own staging code.

A small ingest runs under PortableRunner (embedded job server, LOOPBACK workers: the Fn API
path Spark and Flink take) with `--setup_file` pointing at this repository. Beam then builds
the project's sdist with this venv's own setuptools, without build isolation (offline), and
stages it as the job's artifact, as it would for Dataflow. That step once failed here
(setuptools 65 could not read `license = "Apache-2.0"`); this test keeps it working. The sdist
Beam built is opened on the way: a worker installs corpusmill from it, so the rooms and their
data files must be in it.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from apache_beam.runners.portability import stager

from corpusmill.pipelines.beam_options import PORTABLE_EMBED_ARGS
from corpusmill.pipelines.ingest import run_ingest

ROOT = Path(__file__).resolve().parent.parent
# Files a worker needs from the sdist, beyond the Python modules: setup.py's folder mapping,
# the metadata and the data files the jobs read.
NEEDED = [
    "setup.py",
    "pyproject.toml",
    "README.md",
    "corpusmill/__init__.py",
    "extractors/text/readers.py",
    "pipelines/ingest.py",
    "annotators/models/lid.ftz",
    "annotators/langid/markers/hrv_Latn.txt",
    "annotators/lexicons/README.md",
    "mixers/recipes/s1.yaml",
    "synth/templates/math/en.json",
    "synth/benchmarks/gsm8k_test.jsonl",
]


def test_ingest_with_setup_file_under_portable_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[list[str]] = []
    real_build = stager.Stager._build_setup_package

    def build_and_look(setup_file: str, temp_dir: str, build_setup_args: list[str] | None = None) -> str:
        tarball = real_build(setup_file, temp_dir, build_setup_args)
        with tarfile.open(tarball) as tar:  # read now: Beam deletes its temp_dir after staging
            built.append([m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name])
        return tarball

    monkeypatch.setattr(stager.Stager, "_build_setup_package", staticmethod(build_and_look))
    src = tmp_path / "src"
    src.mkdir()
    texts = [f"Document {i}: a short text about rivers and mountains." for i in range(25)]
    lines = [json.dumps({"id": f"d{i}", "text": t}) for i, t in enumerate(texts)] + ["not json"]
    (src / "docs.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    beam_args = [*PORTABLE_EMBED_ARGS, f"--setup_file={ROOT / 'setup.py'}"]
    summary = run_ingest([str(src)], str(out), workers=None, beam_args=beam_args, progress=False)

    assert built, "Beam did not build the sdist from --setup_file"  # (PortableRunner builds it twice)
    for members in built:
        missing = [f for f in NEEDED if f not in members]
        assert not missing, f"the staged sdist lacks {missing}"
    assert summary["records_in"] == 26 and summary["docs"] == 25
    assert summary["dead_letters"] == {"invalid_json": 1}
    rows = pq.read_table(sorted(out.glob("part-*.parquet"))).to_pylist()
    assert sorted(r["text"] for r in rows) == sorted(texts)
    assert all(r["source"] and r["id"] for r in rows)
