"""The 119 languages and dialects of Qwen3, as shipped in `corpusmill/data/qwen3_languages.tsv`.

Codes are FLORES-200 style (`eng_Latn`), the form the `lang` label takes, so a report or a
recipe can name every language, including those with no document yet.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
from dataclasses import dataclass

QWEN3_LANGUAGES_FILE = "qwen3_languages.tsv"


@dataclass(frozen=True)
class Language:
    code: str  # FLORES-200 style, e.g. "eng_Latn"
    name: str
    family: str
    iso639_3: str
    script: str


@functools.cache
def qwen3_languages() -> tuple[Language, ...]:
    """The Qwen3 languages in the file's order (by family, as the Qwen3 release lists them)."""
    text = importlib.resources.files("corpusmill.data").joinpath(QWEN3_LANGUAGES_FILE).read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    return tuple(Language(r["code"], r["name"], r["family"], r["iso639_3"], r["script"]) for r in rows)
