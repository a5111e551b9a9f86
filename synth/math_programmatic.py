"""Programmatic math documents: item `i` of seed `s` is always the same problem.

No LLM: a family draws parameters from an RNG seeded by (seed, i), computes the exact
answer while writing the steps, and an independent check re-derives it with sympy. A
failed check is a bug in a family, so it becomes a dead letter, never a document.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from corpusmill.errors import RecordError
from corpusmill.schema import meta_json, stable_id
from synth.families import FAMILIES
from synth.math_render import TEMPLATE_VERSION, languages, render

SOURCE = "synth/math"
GENERATOR = "synth.math_programmatic"
GENERATOR_VERSION = "1"


def item_rng(seed: int, index: int) -> random.Random:
    # A string seed is hashed with SHA-512 by `random`, so nearby indexes give unrelated streams.
    return random.Random(f"corpusmill-synth-math/{seed}/{index}")


def math_document(
    index: int, *, seed: int = 0, langs: Sequence[str] | None = None, families: Sequence[str] | None = None
) -> dict[str, Any]:
    """The document row for item `index`; raises `RecordError` when the independent check fails.

    Families rotate with the index and languages rotate once per full round of families, so
    every (family, language) pair gets an equal share of any run of consecutive indexes.
    """
    langs = tuple(langs or languages())
    names = tuple(families or FAMILIES)
    family = FAMILIES[names[index % len(names)]]
    language = langs[(index // len(names)) % len(langs)]
    item = family.generate(item_rng(seed, index))
    if not family.check(item):
        raise RecordError("check_failed", f"{family.name}: independent check disagrees with {item.answer} for {item.params}")
    r = render(item, language)
    meta = {
        "kind": "math",
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "model": None,
        "family": family.name,
        "topics": list(family.topics),
        "language": language,
        "params": item.params,
        "seed": seed,
        "index": index,
        "template": r.template,
        "template_version": TEMPLATE_VERSION,
        "question": r.question,
        "answer": r.answer,
        "answer_sympy": str(item.answer),
        "verification": {"method": "independent_recomputation", "checker": f"{family.name}.check", "passed": True},
    }
    return {
        "id": stable_id(SOURCE, "programmatic", str(seed), str(index)),
        "text": r.text,
        "source": SOURCE,
        "uri": f"synth://math/programmatic/seed={seed}/{index}",
        "meta": meta_json(meta),
    }
