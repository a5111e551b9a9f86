"""A multilingual corpus with known near-duplicates, for the dedup tests and `bench/dedup.py`.

Seeds are real text: the bundled SIB-200 train sample (35 languages), or longer documents
recombined from its sentences. Each seed gets 0..`max_copies` copies, each edited on
1-15 % of its words (substitutions, insertions, deletions) and given another header and/or
footer, as mirrored web pages are. Every row carries `origin` (its seed), the ground truth.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from importlib import resources
from typing import Any

import regex

_SENTENCE_END = regex.compile(r"(?<=[.!?।။។。！？])\s*")
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


def sample_rows() -> list[dict[str, Any]]:
    """The bundled sample: 850 documents (text, source, lang, topics)."""
    path = resources.files("corpusmill.sample_data").joinpath("sib200_sample.jsonl.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


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


def copy_of(text: str, rng: random.Random) -> str:
    body = edit(text, rng.uniform(0.01, 0.15), rng)
    header, footer = rng.choice(HEADERS), rng.choice(FOOTERS)
    return "\n".join(part for part in (header, body, footer) if part)


def with_copies(seeds: list[dict[str, Any]], *, max_copies: int, seed: int) -> list[dict[str, Any]]:
    """Seeds (given `origin` = their index) followed, in shuffled order, by edited copies."""
    rng = random.Random(seed)
    rows = [{**s, "origin": i} for i, s in enumerate(seeds)]
    for i, s in enumerate(seeds):
        for _ in range(rng.randint(0, max_copies)):
            rows.append({**s, "text": copy_of(s["text"], rng), "source": f"{s['source']}-mirror", "origin": i})
    rng.shuffle(rows)
    return rows


def recombined(n_docs: int, *, doc_chars: int, seed: int) -> list[dict[str, Any]]:
    """`n_docs` documents of ~`doc_chars` characters, each a random run of sentences of one
    language of the sample (sentences pooled per language)."""
    rng = random.Random(seed)
    pools: dict[str, list[str]] = defaultdict(list)
    for row in sample_rows():
        pools[row["lang"]].extend(s for s in _SENTENCE_END.split(row["text"]) if s.strip())
    langs = sorted(pools)
    docs = []
    for _ in range(n_docs):
        lang = rng.choice(langs)
        parts, size = [], 0
        while size < doc_chars:
            s = rng.choice(pools[lang])
            parts.append(s)
            size += len(s) + 1
        docs.append({"text": " ".join(parts), "source": "recombined", "lang": lang})
    return docs
