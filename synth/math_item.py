"""One programmatic math problem before rendering, and the small LaTeX helpers families share.

A family builds a `MathItem` from a seeded RNG: the exact answer (a sympy object), the
template fields (language-neutral LaTeX snippets and numbers) and the ordered solution steps.
Words come later, from the per-language templates (`synth/templates/math/<lang>.json`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp


@dataclass(frozen=True)
class Step:
    """A solution step: `key` names its template, `fields` fill it."""

    key: str
    fields: dict[str, str]


@dataclass(frozen=True)
class MathItem:
    family: str
    params: dict[str, Any]
    answer: sp.Basic
    answer_latex: str
    fields: dict[str, str]
    steps: tuple[Step, ...]
    variant: int = 0  # which phrasing of the problem statement (modulo the language's count)


@dataclass(frozen=True)
class Family:
    """A problem family: `generate` builds an item, `check` re-derives the answer another way.

    `check` must not reuse `generate`'s arithmetic (it usually asks sympy to solve,
    differentiate or integrate), so a bug in one is caught by the other.
    """

    name: str
    generate: Callable[[random.Random], MathItem]
    check: Callable[[MathItem], bool]
    topics: tuple[str, ...] = field(default=())


def tex(expr: sp.Basic | int) -> str:
    """LaTeX of a sympy expression or int, without the surrounding dollars."""
    if isinstance(expr, (int, sp.Integer)):
        return str(expr)
    if isinstance(expr, sp.Rational):  # the common case, ~50x faster than the LaTeX printer
        return frac(int(expr.p), int(expr.q))
    return sp.latex(expr)


def plain(value: sp.Basic) -> str:
    """sympy's `str()` of an answer, without the printer for the common exact-number cases."""
    if isinstance(value, (sp.Integer, sp.Rational)):
        return str(value.p) if value.q == 1 else f"{value.p}/{value.q}"
    if isinstance(value, sp.Tuple) and all(isinstance(v, sp.Rational) for v in value.args):
        return "(" + ", ".join(plain(v) for v in value.args) + ")"
    if isinstance(value, sp.FiniteSet) and all(isinstance(v, sp.Rational) for v in value.args):
        return "{" + ", ".join(plain(v) for v in value.args) + "}"
    return str(value)


def frac(p: int, q: int) -> str:
    """An unsimplified fraction as LaTeX (sympy would reduce it)."""
    sign = "-" if p * q < 0 else ""
    return f"{sign}\\frac{{{abs(p)}}}{{{abs(q)}}}"


def signed(n: int) -> str:
    """`+ 3` or `- 3`, for writing terms after the first one."""
    return f"+ {n}" if n >= 0 else f"- {-n}"


def paren(n: int | sp.Basic) -> str:
    """Wrap negative numbers in parentheses, as people write them inside products."""
    s = tex(n)
    return f"({s})" if s.startswith("-") else s


def poly_tex(coeffs: list[int] | list[sp.Rational], var: str = "x") -> str:
    """LaTeX of sum(coeffs[i] * x**i), highest power first, written as a person would."""
    parts: list[str] = []
    for power in range(len(coeffs) - 1, -1, -1):
        c = coeffs[power]
        if c == 0:
            continue
        mag = abs(c)
        body = f"{var}^{{{power}}}" if power > 1 else (var if power == 1 else "")
        num = "" if mag == 1 and power > 0 else tex(mag)
        term = f"{num}{body}"
        if not parts:
            parts.append(("-" if c < 0 else "") + term)
        else:
            parts.append(("- " if c < 0 else "+ ") + term)
    return " ".join(parts) if parts else "0"


def nonzero(rng: random.Random, lo: int, hi: int) -> int:
    """A random int in [lo, hi] other than 0."""
    while True:
        n = rng.randint(lo, hi)
        if n != 0:
            return n
