"""PDF text quality on the development set: pass rate by check kind (issue 18).

The set is the generated fault PDFs of `tests/pdf_faults.py` (each reproduces one fault:
single-page boilerplate, drop cap, glyph-gap spaces, spacing accents, table headers, 2- and
3-column pages) plus the public test-suite PDFs of `tests/data/pdf_devset/` with the checks
in its `checks.json`. Each PDF goes through the text route as the job runs it (OCR off) and
each check passes or fails; the table gives the pass rate per kind.

The small public PDFs are in the repository; the larger ones (listed in `sources.json` with
`"shipped": false`) are copied from local clones of their repositories at the pinned commit
with `--rebuild DIR` (DIR holds clones named `owner+name` or `name`, bare or not), checked
against their SHA-256. PDFs still missing are skipped and named.
Run: `python -m bench.pdf_devset [--verbose] [--rebuild DIR]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from corpusmill.extractors.pdf import samples
from tests.pdf_cases import read_in_process
from tests.pdf_faults import FAULTS, Check, passes

DEVSET = Path(__file__).resolve().parent.parent / "tests" / "data" / "pdf_devset"


def _multi_page() -> Iterator[tuple[str, bytes, list[Check]]]:
    """Generated multi-page documents: running heads repeated on every page, a ruled table."""
    data, _ = samples.single_column_pdf(pages=4)
    yield (
        "single_column_4_pages",
        data,
        [
            {"type": "absent", "text": samples.HEADER},
            {"type": "absent", "text": "Page 2 of 4"},
            {"type": "present", "text": "extraction of text"},
        ],
    )
    data, _ = samples.table_pdf()
    yield (
        "ruled_table",
        data,
        [
            {"type": "table", "row": ["Language", "Documents", "Tokens"], "header": True},
            {"type": "table", "row": ["Chinese", "800", "2.9M"]},
        ],
    )


def _sources() -> dict[str, dict[str, object]]:
    return json.loads((DEVSET / "sources.json").read_text(encoding="utf-8"))


def rebuild(clones: Path) -> list[str]:
    """Copy the public PDFs missing from DEVSET out of local clones at their pinned commits;
    returns the names still missing. A file whose SHA-256 differs is not written."""
    missing = []
    for name, src in _sources().items():
        target = DEVSET / name
        if target.exists():
            continue
        owner, repo = str(src["repo"]).split("/")
        found = [
            d for d in (clones / f"{owner}+{repo}" / "repo", clones / f"{owner}+{repo}", clones / repo) if d.is_dir()
        ]
        data = b""
        for folder in found:
            run = subprocess.run(
                ["git", "-C", str(folder), "show", f"{src['commit']}:{src['path']}"], capture_output=True, check=False
            )
            if run.returncode == 0:
                data = run.stdout
                break
        if data and hashlib.sha256(data).hexdigest() == src["sha256"]:
            target.write_bytes(data)
        else:
            missing.append(name)
    return missing


def cases() -> Iterator[tuple[str, bytes, list[Check]]]:
    """(name, PDF bytes, checks) for every document of the set whose PDF is at hand."""
    for name, make in FAULTS.items():
        data, checks = make()
        yield f"gen:{name}", data, checks
    for name, data, checks in _multi_page():
        yield f"gen:{name}", data, checks
    for name, checks in json.loads((DEVSET / "checks.json").read_text(encoding="utf-8")).items():
        if (DEVSET / name).exists():
            yield f"pub:{name}", (DEVSET / name).read_bytes(), checks


def score(verbose: bool = False) -> dict[str, dict[str, tuple[int, int]]]:
    """{check kind or "all": {"gen" | "pub" | "all": (passed, total)}}."""
    passed: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    for name, data, checks in cases():
        text, _ = read_in_process(data)
        origin = name.split(":", 1)[0]
        for check in checks:
            ok = passes(text, check)
            for kind in (check["type"], "all"):
                for where in (origin, "all"):
                    total[kind, where] += 1
                    passed[kind, where] += ok
            if verbose and not ok:
                print(f"FAIL {name}: {json.dumps(check, ensure_ascii=False)[:160]}")
    kinds = sorted({k for k, _ in total} - {"all"}) + ["all"]
    return {k: {w: (passed[k, w], total[k, w]) for w in ("gen", "pub", "all")} for k in kinds}


def _cell(ok: int, n: int) -> str:
    return f"{ok}/{n} = {ok / n:.2f}" if n else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="list the failing checks")
    parser.add_argument("--rebuild", type=Path, metavar="DIR", help="copy unshipped PDFs from clones in DIR")
    parser.add_argument("--quick", action="store_true", help="accepted for `python -m bench`; the set is small")
    args = parser.parse_args()
    if args.rebuild is not None:
        rebuild(args.rebuild)
    absent = [name for name in _sources() if not (DEVSET / name).exists()]
    if absent:
        print(f"skipped (not here; see --rebuild): {', '.join(absent)}", file=sys.stderr)
    print("| check | generated PDFs | public PDFs | all |\n| --- | --- | --- | --- |")
    for kind, by in score(args.verbose).items():
        print(f"| {kind} | " + " | ".join(_cell(*by[w]) for w in ("gen", "pub", "all")) + " |")


if __name__ == "__main__":
    main()
