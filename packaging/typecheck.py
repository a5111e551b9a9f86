"""Run mypy on the core and the domain rooms as they are installed: under `corpusmill.*`.

setup.py maps each room folder to `corpusmill.<room>` (`extractors/` is `corpusmill.extractors`),
and every import in the code uses those names. mypy cannot follow a setuptools `package_dir`
mapping, nor the editable install's import hook: pointed at `extractors/` it would name the
modules `extractors.*` and find no `corpusmill.extractors`, so every import between our own
modules would turn into `Any` and go unchecked. This script lays out the installed package as
symlinks under `.mypy_cache/layout/corpusmill/` (the core's entries plus one link per checked room),
runs mypy there with the settings in pyproject.toml's `[tool.mypy]`, and prints each reported
path as the source path (`.mypy_cache/layout/corpusmill/extractors/pdf/x.py` -> `extractors/pdf/x.py`).
The links live in mypy's cache folder, which git, ruff and setuptools all skip; not under
`build/`, since a `build/` folder in the repository shadows pypa's `build` for `python -m build`
(Beam's first way to make the `--setup_file` sdist).

Usage: `python packaging/typecheck.py [mypy options]`; exits with mypy's status.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".mypy_cache" / "layout"
PACKAGE = TREE / "corpusmill"
# The rooms type-checked with the core (pipelines/ and commands/ are Beam and CLI glue).
ROOMS = ("extractors", "annotators", "synth", "mixers")
_TREE_PATH = re.compile(r"^\.mypy_cache/layout/corpusmill/([^\s:]+)", re.MULTILINE)


def build_tree() -> None:
    """Fresh links every run, so a module added to the core since the last run is seen."""
    shutil.rmtree(TREE, ignore_errors=True)
    PACKAGE.mkdir(parents=True)
    for entry in sorted((ROOT / "corpusmill").iterdir()):
        if entry.name != "__pycache__":
            (PACKAGE / entry.name).symlink_to(entry)
    for room in ROOMS:
        (PACKAGE / room).symlink_to(ROOT / room)


def source_path(match: re.Match[str]) -> str:
    inner = match.group(1)
    return inner if inner.split("/", 1)[0] in ROOMS else f"corpusmill/{inner}"


def main(argv: list[str]) -> int:
    from mypy import api

    build_tree()
    os.chdir(ROOT)  # pyproject's `files` and the printed paths are relative to the repository
    stdout, stderr, status = api.run(argv)
    sys.stdout.write(_TREE_PATH.sub(source_path, stdout))
    sys.stderr.write(_TREE_PATH.sub(source_path, stderr))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
