"""The wheel puts only `corpusmill` into site-packages, with every data file the rooms read.

setup.py maps each top-level room folder to `corpusmill.<room>`; a file that the mapping or
pyproject's package-data patterns miss would be absent on a cluster worker, or after a
`pip install corpusmill`, while every test run from the checkout still passes. So the wheel
is built here (from a copy of the source tree: a build writes `build/` and `*.egg-info`
beside the sources) and compared with the source tree file by file.

Marked `packaging` (a few seconds): deselect with `-m "not packaging"`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("extractors", "annotators", "synth", "mixers", "pipelines", "commands")
SKIP = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "*.egg-info", "build", "demo_out", "tests", "bench")

pytestmark = pytest.mark.packaging


def _source_files() -> dict[str, Path]:
    """Installed path -> source file, for every file of the core and the rooms."""
    files = {}
    for folder in ("corpusmill", *ROOMS):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                rel = path.relative_to(ROOT).as_posix()
                files[rel if folder == "corpusmill" else f"corpusmill/{rel}"] = path
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist = tmp / "src", tmp / "dist"
    shutil.copytree(ROOT, src, ignore=SKIP, symlinks=True)
    # No build isolation: the venv's own setuptools (>= 77, a runtime dependency) builds it, offline.
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(src), "-w", str(dist)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    (built,) = dist.glob("corpusmill-*.whl")
    return zipfile.ZipFile(built)


def test_only_corpusmill_lands_in_site_packages(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    (info,) = [t for t in tops if t.endswith(".dist-info")]
    assert tops == {"corpusmill", info} and info.startswith("corpusmill-")
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "corpusmill = corpusmill.commands:main" in entry_points


def test_every_module_and_data_file_is_inside(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    source = _source_files()
    missing = sorted(installed for installed in source if installed not in names)
    assert not missing, f"the wheel lacks {missing}"
    # The data the jobs and the demo read, by folder: each must hold at least one file.
    for folder in (
        "corpusmill/annotators/lexicons/",
        "corpusmill/annotators/models/",
        "corpusmill/annotators/langid/markers/",
        "corpusmill/synth/templates/math/",
        "corpusmill/synth/prompts/",
        "corpusmill/synth/benchmarks/",
        "corpusmill/mixers/recipes/",
        "corpusmill/sample_data/",
    ):
        assert any(n.startswith(folder) and not n.endswith(".py") for n in names), folder
    for installed in ("corpusmill/annotators/models/lid.ftz", "corpusmill/sample_data/sib200_sample.jsonl.gz"):
        assert wheel.read(installed) == source[installed].read_bytes()
