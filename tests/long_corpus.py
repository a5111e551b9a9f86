"""A small corpus with book-length documents, for the long-context stage: written here, labeled by hand
(plus the real `gates` annotator), tokenized by the mix job itself."""

from __future__ import annotations

import random

import pyarrow as pa

from corpusmill import storage
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id
from tests.mix_corpus import ANNOTATION_SCHEMA, with_gates

WORDS = {
    "en": (
        "the river old house morning letter garden winter captain village road evening friend window "
        "silence journey mother answered slowly remembered across beneath quiet storm light"
    ).split(),
    "fr": (
        "le la rivière maison matin lettre jardin hiver capitaine village route soir ami fenêtre "
        "silence voyage mère répondit lentement souvint travers sous calme orage lumière"
    ).split(),
}


def paragraph(rng: random.Random, lang: str, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS[lang]) for _ in range(rng.randint(8, 18))]
        out.append(" ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"]))
    return " ".join(out)


def book(rng: random.Random, lang: str, paragraphs: int) -> str:
    """Chapters of paragraphs separated by blank lines, as a Project Gutenberg text reads."""
    parts = []
    for p in range(paragraphs):
        if p % 40 == 0:
            parts.append(f"CHAPTER {p // 40 + 1}")
        parts.append(paragraph(rng, lang, rng.randint(3, 7)))
    return "\n\n".join(parts)


def write_long_corpus(root, *, seed: int = 0) -> tuple[str, str, dict[str, str]]:
    """A 43K-token English book, 18-25K-token novellas, medium and short documents in English and French."""
    rng = random.Random(seed)
    plan = [("book", "en", 640), ("novella-fr", "fr", 190), ("novella-fr-2", "fr", 240), ("novella-en", "en", 260)]
    plan += [(f"medium-{i}", lang, rng.randint(60, 140)) for i, lang in enumerate(["en", "fr"] * 4)]
    plan += [(f"short-{i}", lang, rng.randint(2, 20)) for i, lang in enumerate(["en", "fr", "fr"] * 10)]
    docs, ann = [], []
    for name, lang, paragraphs in plan:
        text = book(rng, lang, paragraphs)
        doc_id = stable_id("long", name)
        docs.append(
            {
                "id": doc_id,
                "text": text,
                "source": "gutenberg" if name.startswith(("book", "novella")) else "web",
                "uri": f"mem://{name}.txt",
                "meta": meta_json({}),
            }
        )
        ann.append(
            {
                "id": doc_id,
                "lang": lang,
                "lang_score": 0.95,
                "script": "Latn",
                "edu_score": 3.0,
                "domain": "other",
                "domain_score": 0.8,
                "safety": "safe",
                "safety_score": 0.99,
                "n_chars": len(text),
            }
        )
    docs_dir, ann_dir = str(root / "docs"), str(root / "ann")
    storage.write_parquet(pa.Table.from_pylist(docs, schema=DOCUMENT_SCHEMA), f"{docs_dir}/part-00000.parquet")
    labels = with_gates(pa.Table.from_pylist(ann, schema=ANNOTATION_SCHEMA), docs)
    storage.write_parquet(labels, f"{ann_dir}/part-00000.parquet")
    return docs_dir, ann_dir, {d["id"]: d["text"] for d in docs}
