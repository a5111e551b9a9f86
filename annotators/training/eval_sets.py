"""Write our held-out test splits as `text<TAB>label<TAB>lang` files for `corpusmill annotators eval`.

    python -m corpusmill.annotators.training.eval_sets --mirrors DIR --sib200 DIR --out DIR
    corpusmill annotators eval --labels DIR/safety_test.tsv --annotator safety

The rows are exactly the test groups the training scripts held out (`public_data.split_of`,
`training.safety.split` for safety):
`safety_test.tsv` (labels `safe` / `unsafe:<category>`), `domain_test.tsv` (SIB-200 dev, the
reported figure, plus the extra classes' test passages) and `edu_test.tsv` (0-5 scores).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable

from corpusmill.annotators.sib200 import read_split
from corpusmill.annotators.training.labeled_sets import edu_rows
from corpusmill.annotators.training.public_data import Row, split_of


def _clean(text: str) -> str:
    return " ".join(text.split())  # tabs and newlines would break the TSV


def write_tsv(path: str, rows: Iterable[tuple[str, str, str]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("text\tlabel\tlang\n")
        for text, label, lang in rows:
            fh.write(f"{_clean(text)}\t{label}\t{lang}\n")
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    from corpusmill.annotators.training.domain import extra_rows
    from corpusmill.annotators.training.edu import _is_test
    from corpusmill.annotators.training.safety import build, split

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirrors", required=True)
    parser.add_argument("--sib200", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    safety: list[Row] = [r for r in build(args.mirrors, args.sib200) if split(r) == "test"]
    n = write_tsv(
        os.path.join(args.out, "safety_test.tsv"),
        ((r.text, "safe" if r.label == "safe" else f"unsafe:{r.label}", r.lang) for r in safety),
    )
    print(f"safety_test.tsv: {n} rows")
    extra = [r for r in extra_rows(args.mirrors) if split_of(r.group) == "test"]
    dev = [(e.text, e.label, e.lang) for e in read_split(args.sib200, "dev")]
    n = write_tsv(os.path.join(args.out, "domain_test.tsv"), [*dev, *((r.text, r.label, r.lang) for r in extra)])
    print(f"domain_test.tsv: {n} rows")
    edu = [r for r in edu_rows(args.mirrors) if _is_test(r.group)]
    n = write_tsv(os.path.join(args.out, "edu_test.tsv"), ((r.text, r.label, r.lang) for r in edu))
    print(f"edu_test.tsv: {n} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
