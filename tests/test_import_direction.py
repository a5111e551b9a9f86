"""Imports point down only: core <- rooms <- pipelines <- commands.

The core (`corpusmill/`) imports nothing of ours; a domain room (`extractors/ annotators/
synth/ mixers/`) imports the core and itself, never another room, Beam or the layers above;
`pipelines/` imports core and rooms, never `commands/`. Every import statement is read from
the source, including those inside functions, so a lazy upward import is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("extractors", "annotators", "synth", "mixers", "dedup")
LAYERS = ("pipelines", "commands")
OURS = ROOMS + LAYERS


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _ours(module: str) -> str | None:
    """The room or layer an imported module belongs to (None for core and third parties)."""
    parts = module.split(".")
    if parts[0] == "corpusmill" and len(parts) > 1 and parts[1] in OURS:
        return parts[1]
    if parts[0] in OURS:
        return parts[0]  # an un-namespaced import: must not exist at all
    return None


def _violations(folder: str, allowed: set[str], *, beam: bool) -> list[str]:
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(_imports(path)):
            owner = _ours(module)
            if (owner is not None and owner not in allowed) or module.split(".")[0] in OURS:
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
            if not beam and module.split(".")[0] == "apache_beam":
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


@pytest.mark.parametrize(
    ("folder", "allowed", "beam"),
    [
        ("corpusmill", set(), False),
        *[(room, {room}, False) for room in ROOMS],
        ("pipelines", {*ROOMS, "pipelines"}, True),
        ("commands", {*OURS}, True),
    ],
)
def test_imports_point_down(folder: str, allowed: set[str], beam: bool) -> None:
    assert _violations(folder, allowed, beam=beam) == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    # The rule above must be able to fail: an upward and an un-namespaced import are both found.
    source = "def f():\n    from corpusmill.pipelines.common import run\n    import mixers.recipe\n"
    path = tmp_path / "x.py"
    path.write_text(source)
    found = {m for m in _imports(path) if _ours(m) is not None}
    assert found == {"corpusmill.pipelines.common", "mixers.recipe"}
