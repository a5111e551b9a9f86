"""SIB-200 (`<root>/<code>/{train,dev}.tsv`): the one reader of the data every model trains on.

SIB-200 (Adelani et al. 2024, CC BY-SA 4.0) labels the FLORES-200 sentences of 205
languages with seven topics; because the sentences are parallel, one model learns the
topics across all languages at once, and sentence `index_id` is the same sentence in every
language. Some varieties share sentences byte for byte with another label (Najdi Arabic
with Standard Arabic for two thirds of its lines); those lines cannot teach a difference,
so in a language-ID training set a shared sentence is kept once, under the preferred label.
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from corpusmill.errors import InputNotFoundError

TOPICS = ("science/technology", "travel", "politics", "sports", "health", "entertainment", "geography")
ATTRIBUTION = (
    "Trained on SIB-200 (Adelani et al., 2024; github.com/dadelani/sib-200), CC BY-SA 4.0, "
    "whose sentences come from FLORES-200 (NLLB Team, 2022), CC BY-SA 4.0."
)


@dataclass(frozen=True)
class Example:
    lang: str
    label: str
    text: str


STANDARD_ARABIC = "arb_Arab"
# When one sentence is listed under several labels it stays with the standard variety.
PREFERRED_ON_TIES = (STANDARD_ARABIC,)
# Varieties whose SIB-200 lines are mostly Standard Arabic, byte for byte or nearly
# (shared/DATA.md): their labels say nothing about the text, so thresholds ignore them.
LIKE_STANDARD_ARABIC = ("ars_Arab", "acq_Arab")


def _rows(path: str | Path) -> list[dict[str, str]]:
    # The files are plain TSV: a quote character is text, never a field delimiter.
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_split(root: str | Path, split: str) -> list[Example]:
    """Every `<root>/<lang>/<split>.tsv` row, languages in sorted order."""
    out: list[Example] = []
    for lang in sorted(os.listdir(root)):
        path = os.path.join(root, lang, f"{split}.tsv")
        if os.path.isfile(path):
            out.extend(Example(lang, row["category"], row["text"]) for row in _rows(path))
    return out


def languages(root: Path) -> list[str]:
    """Codes of the languages under `root`, sorted."""
    codes = sorted(p.parent.name for p in root.glob("*/train.tsv"))
    if not codes:
        raise InputNotFoundError(f"no SIB-200 data under {root}: expected <code>/train.tsv files")
    return codes


def read_language(root: Path, code: str, split: str) -> list[str]:
    """Sentences of one language and split, in file order."""
    return read_language_with_ids(root, code, split)[1]


def read_language_with_ids(root: Path, code: str, split: str) -> tuple[list[str], list[str]]:
    """(`index_id`s, sentences) of one language and split, in file order: the ids say
    which sentences of two languages translate each other."""
    rows = _rows(root / code / f"{split}.tsv")
    return [row["index_id"] for row in rows], [row["text"] for row in rows]


def training_pairs(root: Path, codes: list[str]) -> list[tuple[str, str]]:
    """(label, sentence) pairs of the train split, shared sentences kept once."""
    owners: dict[str, list[str]] = defaultdict(list)
    sentences = {code: read_language(root, code, "train") for code in codes}
    for code in codes:
        for text in dict.fromkeys(sentences[code]):
            owners[text].append(code)
    pairs = []
    for code in codes:
        for text in dict.fromkeys(sentences[code]):
            if _owner(owners[text]) == code:
                pairs.append((code, text))
    return pairs


def shared_lines(root: Path, codes: list[str], split: str) -> dict[str, set[int]]:
    """Per language, the line numbers of sentences also listed under another label.

    All lines of LIKE_STANDARD_ARABIC count as shared.
    """
    sentences = {code: read_language(root, code, split) for code in codes}
    owners: dict[str, set[str]] = defaultdict(set)
    for code in codes:
        for text in sentences[code]:
            owners[text].add(code)
    return {
        code: {i for i, text in enumerate(sentences[code]) if len(owners[text]) > 1 or code in LIKE_STANDARD_ARABIC}
        for code in codes
    }


def _owner(codes: list[str]) -> str:
    for preferred in PREFERRED_ON_TIES:
        if preferred in codes:
            return preferred
    return codes[0]


def qwen3_languages(path: str) -> list[tuple[str, str]]:
    """(code, name) of the 119 Qwen3 languages, in file order."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["code"], r["name"]) for r in csv.DictReader(fh, delimiter="\t")]
