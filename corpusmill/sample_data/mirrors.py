"""Edited copies of the bundled sample: mirrored pages with light edits and other boilerplate.

The demo ingests some of them beside the sample, so `corpusmill dedup` has near-duplicates to
find; the dedup tests and benchmark build their corpora with the same edits. A copy changes
1-15 % of the words (substitutions, insertions, deletions; characters in scripts written
without spaces) and gets another header and/or footer.
"""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import regex

from corpusmill.sample_data import sample_jsonl

_TOKEN = regex.compile(r"\S+")
HEADERS = [
    "Home | News | Contact",
    "Skip to main content",
    "Menu Search Sign in",
    "Accueil > Actualités",
    "Startseite - Impressum - Datenschutz",
    "首页 | 新闻 | 联系我们",
    "トップ > ニュース",
    "",
]
FOOTERS = [
    "© 2024 Example Media. All rights reserved.",
    "Share this article: Facebook Twitter Email",
    "Tous droits réservés.",
    "Alle Rechte vorbehalten. Kontakt: info@example.org",
    "版权所有 © 2023",
    "Posted in News | Leave a comment",
    "",
]


def edit(text: str, rate: float, rng: random.Random) -> str:
    """`text` with about `rate` of its words substituted, inserted or deleted. Unspaced
    scripts (one "word" per sentence) are edited by characters instead."""
    words = _TOKEN.findall(text)
    unit_chars = len(words) < max(10, len(text) // 40)
    units = list(text) if unit_chars else words
    pool = units[:]
    for _ in range(max(1, round(rate * len(units)))):
        op, i = rng.random(), rng.randrange(len(units))
        if op < 0.4:
            units[i] = rng.choice(pool) if rng.random() < 0.5 else f"x{rng.randrange(10**6)}"
        elif op < 0.7:
            units.insert(i, rng.choice(pool))
        elif len(units) > 1:
            del units[i]
    return ("" if unit_chars else " ").join(units)


def copy_of(text: str, rng: random.Random, *, max_rate: float = 0.15) -> str:
    """`text` edited on 1 %..`max_rate` of its words, with another header and/or footer."""
    body = edit(text, rng.uniform(0.01, max_rate), rng)
    header, footer = rng.choice(HEADERS), rng.choice(FOOTERS)
    return "\n".join(part for part in (header, body, footer) if part)


def sample_rows() -> list[dict[str, Any]]:
    """The bundled sample: 850 documents (text, source, lang, topics)."""
    with gzip.open(sample_jsonl(), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_mirrors(path: str, n: int, *, seed: int = 0, max_rate: float = 0.05) -> str:
    """Write `n` edited copies of sample documents (source `<source>-mirror`) as JSONL to `path`."""
    rng = random.Random(seed)
    rows = sample_rows()
    with open(path, "w", encoding="utf-8") as fh:
        for row in rng.sample(rows, n):
            text = copy_of(row["text"], rng, max_rate=max_rate)
            fh.write(json.dumps({**row, "text": text, "source": f"{row['source']}-mirror"}, ensure_ascii=False) + "\n")
    return path
