"""A tiny annotated corpus for mixer tests: documents and annotations Parquet written here, not by the annotator."""

from __future__ import annotations

import random

import pyarrow as pa

from corpusmill import storage
from corpusmill.annotators.gates import QualityGates
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id

SENTENCES = {
    "en": [
        "The quick brown fox jumps over the lazy dog.",
        "Photosynthesis turns light into chemical energy.",
        "Markets rose on Tuesday after the announcement.",
        "The team won the final match 3-1.",
    ],
    "de": ["Die Straße führt über die Brücke.", "Größere Zahlen brauchen mehr Speicher."],
    "zh": ["机器学习是人工智能的一个分支。", "今天的天气很好，我们去公园散步。"],
    "ru": ["Привет, мир! Это проверка.", "Математика — царица наук."],
    "ar": ["مرحبا بالعالم، هذا اختبار.", "العلم نور والجهل ظلام."],
    "code": ["def add(a, b):\n    return a + b\n", "for i in range(10):\n    print(i * i)\n"],
}
DOMAINS = ["science/technology", "travel", "politics", "sports", "health", "math", "other"]

ANNOTATION_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("lang", pa.string()),
        ("lang_score", pa.float32()),
        ("script", pa.string()),
        ("edu_score", pa.float32()),
        ("domain", pa.string()),
        ("domain_score", pa.float32()),
        ("safety", pa.string()),
        ("safety_score", pa.float32()),
        ("n_chars", pa.int64()),
    ]
)


def make_docs(n: int, *, seed: int = 0, max_sentences: int = 40) -> list[dict]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        lang = rng.choice(sorted(SENTENCES))
        k = rng.randint(1, max_sentences)
        text = " ".join(rng.choice(SENTENCES[lang]) for _ in range(k))
        source = "synth_math" if i % 7 == 0 else "web"
        docs.append(
            {
                "id": stable_id("doc", str(i)),
                "text": text,
                "source": source,
                "uri": f"mem://doc/{i}",
                "meta": meta_json({"n": i}),
                "_lang": lang,
                "_i": i,
            }
        )
    return docs


def annotation_row(doc: dict, rng: random.Random) -> dict:
    lang = doc["_lang"]
    domain = "code" if lang == "code" else rng.choice(DOMAINS)
    return {
        "id": doc["id"],
        "lang": "en" if lang == "code" else lang,
        "lang_score": 0.9,
        "script": "Latn",
        "edu_score": round(rng.uniform(0, 5), 2),
        "domain": domain,
        "domain_score": 0.8,
        "safety": "unsafe:violence" if doc["_i"] % 11 == 5 else "safe",
        "safety_score": 0.9,
        "n_chars": len(doc["text"]),
    }


def with_gates(labels: pa.Table, docs: list[dict]) -> pa.Table:
    """`labels` plus the real `gates` annotator's columns for `docs` (same order)."""
    gates = QualityGates().label(
        pa.table({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs], "uri": [d["uri"] for d in docs]})
    )
    for field in gates.schema:
        labels = labels.append_column(field, gates.column(field.name))
    return labels


def write_corpus(root, n: int = 80, *, seed: int = 0, unannotated: int = 0, files: int = 2, max_sentences: int = 40):
    """Writes root/docs/part-*.parquet and root/ann/part-*.parquet; the last `unannotated` docs get no labels."""
    docs = make_docs(n, seed=seed, max_sentences=max_sentences)
    rng = random.Random(seed + 1)
    ann = [annotation_row(d, rng) for d in docs[: n - unannotated]]
    docs_dir, ann_dir = str(root / "docs"), str(root / "ann")
    per = -(-n // files)
    for f in range(files):
        chunk = [{k: v for k, v in d.items() if not k.startswith("_")} for d in docs[f * per : (f + 1) * per]]
        storage.write_parquet(pa.Table.from_pylist(chunk, schema=DOCUMENT_SCHEMA), f"{docs_dir}/part-{f:05d}.parquet")
    labels = pa.Table.from_pylist(ann, schema=ANNOTATION_SCHEMA)
    storage.write_parquet(with_gates(labels, docs[: n - unannotated]), f"{ann_dir}/part-00000.parquet")
    return docs_dir, ann_dir, {d["id"]: d["text"] for d in docs}
