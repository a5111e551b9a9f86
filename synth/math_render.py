"""Render a `MathItem` into a problem statement and a numbered step-by-step solution.

Templates are data (`synth/templates/math/<lang>.json`): one file per language with the
section labels and, per family, a list of problem phrasings plus one sentence per step key.
Adding a language is adding a file; `check_templates` says what a file is missing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from corpusmill.synth.math_item import MathItem

TEMPLATE_VERSION = "1"


@dataclass(frozen=True)
class Rendered:
    question: str
    solution: str
    answer: str
    text: str  # the document: problem, solution and answer, with labels in the item's language
    template: str  # which template produced it, for `meta`


def languages() -> tuple[str, ...]:
    """Languages that have a template file, sorted."""
    folder = resources.files("corpusmill.synth") / "templates" / "math"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json")))


@functools.cache
def templates(language: str) -> dict:
    path = resources.files("corpusmill.synth") / "templates" / "math" / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def render(item: MathItem, language: str) -> Rendered:
    t = templates(language)
    fam = t["families"][item.family]
    phrasings = fam["problem"]
    variant = item.variant % len(phrasings)
    question = phrasings[variant].format(**item.fields)
    lines = [f"{i}. {fam[step.key].format(**step.fields)}" for i, step in enumerate(item.steps, 1)]
    solution = "\n".join(lines)
    labels = t["labels"]
    sep = labels.get("sep", ": ")
    text = (
        f"{labels['problem']}{sep}{question}\n\n"
        f"{labels['solution']}{sep.rstrip()}\n{solution}\n\n"
        f"{labels['answer']}{sep}{item.answer_latex}"
    )
    return Rendered(question, solution, item.answer_latex, text, f"math/{language}.json#{item.family}/{variant}")


def check_templates(language: str, step_keys: dict[str, set[str]]) -> list[str]:
    """Problems with one language file: missing families or step sentences, given each family's keys."""
    t = templates(language)
    missing = [f"labels.{k}" for k in ("problem", "solution", "answer") if k not in t.get("labels", {})]
    for family, keys in step_keys.items():
        fam = t.get("families", {}).get(family)
        if fam is None:
            missing.append(family)
            continue
        if not fam.get("problem"):
            missing.append(f"{family}.problem")
        missing += [f"{family}.{k}" for k in sorted(keys) if k not in fam]
    return missing
