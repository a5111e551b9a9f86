"""A corpus whose best mixture is known: four buckets of clearly different text, and a target made of two of them.

Each bucket's documents are random sentences over its own small word list in its own script
(English, German, Russian, Chinese), so their Qwen token sets barely overlap. The target is
new text (other seed) drawn half from the Russian and half from the Chinese generator: a
proxy trained on more of those two buckets sees more of the target's tokens and scores a
lower loss on it, so a working search must put most of the weight there.
"""

from __future__ import annotations

import json
import random

import pyarrow as pa

from corpusmill import storage
from corpusmill.schema import DOCUMENT_SCHEMA, meta_json, stable_id

WORDS = {
    "en": "river stone garden window yellow quiet morning bread ladder pocket silver winter candle".split(),
    "de": "Fluss Stein Garten Fenster gelb leise Morgen Brot Leiter Tasche Silber Winter Kerze".split(),
    "ru": "река камень сад окно жёлтый тихий утро хлеб лестница карман серебро зима свеча".split(),
    "zh": "河流 石头 花园 窗户 黄色 安静 早晨 面包 梯子 口袋 银子 冬天 蜡烛".split(),
}
LANGS = sorted(WORDS)
ANNOTATION_SCHEMA = pa.schema(
    [("id", pa.string()), ("lang", pa.string()), ("edu_score", pa.float32()), ("domain", pa.string())]
)


def text(lang: str, rng: random.Random, words: int) -> str:
    sep = "" if lang == "zh" else " "
    sentences, left = [], words
    while left > 0:
        n = min(left, rng.randint(4, 9))
        sentences.append(sep.join(rng.choice(WORDS[lang]) for _ in range(n)) + ("。" if lang == "zh" else "."))
        left -= n
    return sep.join(sentences)


def write_corpus(root, *, per_lang: int = 40, words: int = 60, seed: int = 0) -> tuple[str, str]:
    """root/docs/part-00000.parquet and root/ann/part-00000.parquet: `per_lang` documents per language."""
    rng = random.Random(seed)
    docs, ann = [], []
    for lang in LANGS:
        for i in range(per_lang):
            doc_id = stable_id("search-test", lang, str(i))
            docs.append(
                {
                    "id": doc_id,
                    "text": text(lang, rng, words),
                    "source": "web",
                    "uri": f"mem://{lang}/{i}",
                    "meta": meta_json({"i": i}),
                }
            )
            ann.append({"id": doc_id, "lang": lang, "edu_score": round(rng.uniform(0, 5), 2), "domain": "other"})
    docs_dir, ann_dir = str(root / "docs"), str(root / "ann")
    storage.write_parquet(pa.Table.from_pylist(docs, schema=DOCUMENT_SCHEMA), f"{docs_dir}/part-00000.parquet")
    storage.write_parquet(pa.Table.from_pylist(ann, schema=ANNOTATION_SCHEMA), f"{ann_dir}/part-00000.parquet")
    return docs_dir, ann_dir


def write_target(
    path, langs: tuple[str, ...] = ("ru", "zh"), *, per_lang: int = 12, words: int = 60, seed: int = 99
) -> str:
    """A JSONL target drawn equally from `langs`, with a seed the corpus does not use."""
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        for lang in langs:
            for _ in range(per_lang):
                fh.write(json.dumps({"text": text(lang, rng, words)}, ensure_ascii=False) + "\n")
    return str(path)


def space_dict(target: str, **overrides: object) -> dict:
    """A tiny search space over the four language buckets (tiny proxy, tiny budget)."""
    space = {
        "name": "known-answer",
        "seed": 3,
        "proxies": 12,
        "stage": {"name": "s1", "seq_len": 32, "proxy_tokens": 6144, "budget_tokens": 8000},
        "buckets": [{"name": lang, "where": f"lang = '{lang}'", "max_repeats": 4} for lang in LANGS],
        "targets": [{"name": "ru_zh", "jsonl": target, "weight": 1.0}],
        "model": {
            "d_model": 32,
            "n_layers": 1,
            "n_heads": 2,
            "vocab_size": 192,
            "batch_size": 8,
            "learning_rate": 0.01,
            "eval_sequences": 16,
        },
        "fit": {"folds": 4, "candidates": 4000, "top": 50},
        "gates": "off",  # the corpus has no `gates` annotator columns
    }
    for key, value in overrides.items():
        space[key] = value
    return space
