"""SIB-200 topic data: the seven topics, the TSV reader and the Qwen3 language list.

SIB-200 (Adelani et al. 2024, CC BY-SA 4.0) labels the FLORES-200 sentences of 205
languages with seven topics; because the sentences are parallel, one model learns the
topics across all languages at once.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

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


def read_split(root: str, split: str) -> list[Example]:
    """Every `<root>/<lang>/<split>.tsv` row, languages in sorted order."""
    out: list[Example] = []
    for lang in sorted(os.listdir(root)):
        path = os.path.join(root, lang, f"{split}.tsv")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                out.append(Example(lang, row["category"], row["text"]))
    return out


def qwen3_languages(path: str) -> list[tuple[str, str]]:
    """(code, name) of the 119 Qwen3 languages, in file order."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["code"], r["name"]) for r in csv.DictReader(fh, delimiter="\t")]
