"""Prompt templates of the LLM-backed generators, as text files beside this module.

Each template's file name (e.g. `math_solve.txt`) and a short content hash go into every
document's `meta`, so a change of wording is visible in the data.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources


@functools.cache
def prompt(name: str) -> str:
    return (resources.files("corpusmill.synth.prompts") / name).read_text(encoding="utf-8").strip()


def prompt_id(name: str) -> str:
    """`name@hash8`: which template, and which version of its wording."""
    return f"{name}@{hashlib.sha256(prompt(name).encode()).hexdigest()[:8]}"
