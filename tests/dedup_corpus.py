"""A multilingual corpus with known near-duplicates, for the dedup tests and `bench/dedup.py`.

Seeds are real text: the bundled SIB-200 train sample (35 languages), or longer documents
recombined from its sentences. Each seed gets 0..`max_copies` copies, each edited on
1-15 % of its words (substitutions, insertions, deletions) and given another header and/or
footer, as mirrored web pages are. Every row carries `origin` (its seed), the ground truth.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import regex

from corpusmill.sample_data.mirrors import copy_of, edit, sample_rows

__all__ = ["copy_of", "edit", "recombined", "sample_rows", "with_copies"]

_SENTENCE_END = regex.compile(r"(?<=[.!?।။។。！？])\s*")


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
