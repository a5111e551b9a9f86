"""Programmatic math documents: item `i` of seed `s` is always the same problem.

No LLM: a family draws parameters from an RNG seeded by (seed, i), computes the exact
answer while writing the steps, and an independent check re-derives it with sympy. A
failed check is a bug in a family, so it becomes a dead letter, never a document.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from corpusmill.errors import ConfigError, RecordError
from corpusmill.progress import NO_COUNTERS, CounterSink
from corpusmill.schema import dead_letter, meta_json, stable_id
from corpusmill.synth.base import Generator, Outcome
from corpusmill.synth.families import FAMILIES
from corpusmill.synth.math_item import plain
from corpusmill.synth.math_render import TEMPLATE_VERSION, languages, render

SOURCE = "synth/math"
GENERATOR = "corpusmill.synth.math_programmatic"
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
        raise RecordError(
            "check_failed", f"{family.name}: independent check disagrees with {item.answer} for {item.params}"
        )
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
        "answer_sympy": plain(item.answer),
        "verification": {"method": "independent_recomputation", "checker": f"{family.name}.check", "passed": True},
    }
    return {
        "id": stable_id(SOURCE, "programmatic", str(seed), str(index)),
        "text": r.text,
        "source": SOURCE,
        "uri": f"synth://math/programmatic/seed={seed}/{index}",
        "meta": meta_json(meta),
    }


class ProgrammaticMath(Generator):
    """Verified math problems from the programmatic families; no model involved."""

    kind = "math"
    name = "programmatic_math"
    version = GENERATOR_VERSION
    batch_size = 2_000

    def __init__(
        self, *, seed: int = 0, langs: Sequence[str] | None = None, families: Sequence[str] | None = None
    ) -> None:
        known = languages()
        self.langs = tuple(langs or known)
        self.families = tuple(families or FAMILIES)
        if unknown := sorted(set(self.langs) - set(known)):
            raise ConfigError(f"no math templates for languages {unknown}; available: {', '.join(known)}")
        if unknown := sorted(set(self.families) - set(FAMILIES)):
            raise ConfigError(f"unknown math families {unknown}; available: {', '.join(FAMILIES)}")
        self.seed = seed

    def config(self) -> dict[str, Any]:
        return {
            "generator": self.name,
            "version": self.version,
            "seed": self.seed,
            "languages": list(self.langs),
            "families": list(self.families),
            "template_version": TEMPLATE_VERSION,
        }

    def generate(self, start: int, end: int, counters: CounterSink = NO_COUNTERS) -> Iterator[Outcome]:
        for index in range(start, end):
            try:
                doc = math_document(index, seed=self.seed, langs=self.langs, families=self.families)
            except RecordError as exc:
                counters.inc(f"dead_{exc.reason}")
                uri = f"synth://math/programmatic/seed={self.seed}/{index}"
                yield Outcome(
                    index,
                    dead_letter=dead_letter(
                        uri=uri, stage="generate", reason=exc.reason, error=type(exc).__name__, message=str(exc)
                    ),
                )
                continue
            counters.inc("generated")
            yield Outcome(index, document=doc)
