"""Sentences of Universal Dependencies treebanks: our dev and test text from outside SIB-200.

    python -m corpusmill.annotators.training.ud --treebanks DIR --out DIR

`DIR` holds checkouts of the `UniversalDependencies/UD_*` repositories listed in
`langid/ud_treebanks.tsv` (treebank, FLORES-style code, license). Each sentence's
`# text =` line becomes a row `{"lang", "source", "doc", "text"}`; `ud_dev.jsonl` takes
the dev file (or, where a treebank has none, its train file) and `ud_test.jsonl` the test
file. UD splits treebanks by document, so dev and test never share a source text.
Treebanks whose license is non-commercial or GPL serve as test text only (`tunable`).
"""

from __future__ import annotations

import argparse
import csv
import json
from importlib import resources
from pathlib import Path

# Sentences kept per treebank and split: enough for per-language accuracy, bounded cost.
MAX_SENTENCES = 3_000


def treebanks() -> list[dict[str, str]]:
    """Rows of `ud_treebanks.tsv`: treebank, code, license."""
    text = (resources.files("corpusmill.annotators.langid") / "ud_treebanks.tsv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def tunable(license_name: str) -> bool:
    """Whether text under this license may tune what we ship (thresholds, calibration)."""
    return license_name.startswith("CC BY") and "NC" not in license_name


def sentences(conllu: str) -> list[tuple[str, str]]:
    """(document id, sentence) of each `# text =` line, in file order."""
    doc, out, n = "", [], 0
    for line in conllu.splitlines():
        if line.startswith("# newdoc"):
            doc = line.split("=", 1)[-1].strip() if "=" in line else f"doc{n}"
            n += 1
        elif line.startswith("# text ="):
            out.append((doc, line.split("=", 1)[1].strip()))
    return out


def split_files(folder: Path) -> dict[str, Path]:
    """The treebank's files by split (`train`, `dev`, `test`)."""
    return {path.stem.rsplit("-", 1)[-1]: path for path in sorted(folder.glob("*.conllu"))}


def read_rows(root: Path, split: str, *, tunable_only: bool = False) -> list[dict[str, str]]:
    """Rows of one split (`dev` or `test`) of every listed treebank found under `root`."""
    rows = []
    for entry in treebanks():
        if tunable_only and not tunable(entry["license"]):
            continue
        files = split_files(root / entry["treebank"])
        path = files.get(split) or (files.get("train") if split == "dev" and "test" in files else None)
        if path is None:
            continue
        for doc, text in sentences(path.read_text(encoding="utf-8"))[:MAX_SENTENCES]:
            rows.append({"lang": entry["code"], "source": entry["treebank"], "doc": doc, "text": text})
    return rows


def load(path: Path, *, tunable_only: bool = False) -> list[tuple[str, str, str]]:
    """(code, source/doc, text) rows of a written split file."""
    allowed = {entry["treebank"] for entry in treebanks() if tunable(entry["license"])}
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if not tunable_only or row["source"] in allowed:
            out.append((row["lang"], f"{row['source']}/{row['doc']}", row["text"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m corpusmill.annotators.training.ud", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--treebanks", type=Path, required=True, help="folder with UD_* checkouts")
    parser.add_argument("--out", type=Path, required=True, help="folder for ud_dev.jsonl and ud_test.jsonl")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("dev", "test"):
        rows = read_rows(args.treebanks, split)
        with open(args.out / f"ud_{split}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{split}: {len(rows):,} sentences in {len({row['lang'] for row in rows})} languages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
