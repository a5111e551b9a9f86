"""Sentences of Universal Dependencies treebanks: our dev and test text from outside SIB-200.

    python -m corpusmill.annotators.training.ud --treebanks DIR --out DIR

`DIR` holds checkouts of the `UniversalDependencies/UD_*` repositories listed in
`langid/ud_treebanks.tsv` (treebank, FLORES-style code, license). Each sentence's
`# text =` line becomes a row `{"lang", "source", "doc", "text"}`. `ud_test.jsonl` takes the
test file; the sentences of the train and dev files are pooled and cut into groups (a
document, or `GROUP_SENTENCES` consecutive sentences of one), and a hash of the group sends
it to `ud_train.jsonl` (two in three) or `ud_dev.jsonl`. UD splits treebanks by document, so
the test file never shares a source text with the other two. Treebanks whose license is
non-commercial, GPL or not CC serve as test text only (`tunable`); `ud_test.jsonl` lists each
language's sources in turns of `TURN` sentences, so the first sentences of a language sample
all its treebanks. Fetching drops files >= 4 MiB: where a treebank's train file is missing
the pool is its dev file alone, and where its test file is missing its dev file is the test
text.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from importlib import resources
from pathlib import Path

# Sentences kept per treebank and split: enough for per-language accuracy, bounded cost.
MAX_SENTENCES = 3_000
# Training sentences kept per treebank (the trainer caps each language again).
MAX_TRAIN_SENTENCES = 6_000
# A long document is cut into groups of this many consecutive sentences before the
# train/dev hash, so a one-document file still lands on both sides.
GROUP_SENTENCES = 50
# One in DEV_SHARE groups of the pooled train/dev files goes to dev.
DEV_SHARE = 3
# Test rows of one language alternate between its treebanks in runs of this many sentences
# (one evaluation paragraph).
TURN = 5


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


def pooled_split(treebank: str, doc: str, index: int) -> str:
    """`train` or `dev` for the `index`-th sentence of document `doc` of a non-test file."""
    key = f"{treebank}/{doc}/{index // GROUP_SENTENCES}".encode()
    return "dev" if int(hashlib.sha256(key).hexdigest()[:8], 16) % DEV_SHARE == 0 else "train"


def read_rows(root: Path, split: str, *, tunable_only: bool = False) -> list[dict[str, str]]:
    """Rows of one split (`train`, `dev` or `test`) of every listed treebank found under `root`."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"unknown split {split!r}: expected train, dev or test")
    rows = []
    for entry in treebanks():
        if tunable_only and not tunable(entry["license"]):
            continue
        files = split_files(root / entry["treebank"])
        # A treebank whose test file is missing (too big to fetch) lends its dev file as test.
        held = "test" if "test" in files else "dev"
        names = [held] if split == "test" else [name for name in ("train", "dev") if name != held]
        kept: list[tuple[str, str]] = []
        for name in names:
            if name not in files:
                continue
            position: dict[str, int] = {}
            for doc, text in sentences(files[name].read_text(encoding="utf-8")):
                index = position[doc] = position.get(doc, -1) + 1
                group_doc = f"{name}:{doc}"
                if split == "test" or pooled_split(entry["treebank"], group_doc, index) == split:
                    kept.append((group_doc if split != "test" else doc, text))
        limit = MAX_TRAIN_SENTENCES if split == "train" else MAX_SENTENCES
        for doc, text in kept[:limit]:
            rows.append({"lang": entry["code"], "source": entry["treebank"], "doc": doc, "text": text})
    return rows


def in_turns(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each language's rows, its sources taking turns of `TURN` sentences (order kept within
    a source; languages in first-seen order)."""
    by_lang: dict[str, dict[str, list[dict[str, str]]]] = {}
    for row in rows:
        by_lang.setdefault(row["lang"], {}).setdefault(row["source"], []).append(row)
    out: list[dict[str, str]] = []
    for sources in by_lang.values():
        queues = list(sources.values())
        start = 0
        while any(start < len(queue) for queue in queues):
            for queue in queues:
                out.extend(queue[start : start + TURN])
            start += TURN
    return out


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
    parser.add_argument("--out", type=Path, required=True, help="folder for ud_{train,dev,test}.jsonl")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        # Training text only from licenses that let us ship what it teaches.
        rows = read_rows(args.treebanks, split, tunable_only=split == "train")
        if split == "test":
            rows = in_turns(rows)
        with open(args.out / f"ud_{split}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        print(f"{split}: {len(rows):,} sentences in {len({row['lang'] for row in rows})} languages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
